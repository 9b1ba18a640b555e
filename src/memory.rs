//! Memory between the phases of a run: what a phase freed is given back before the next one
//! ([`trim`]), and, for measuring, resident memory is printed at each phase ([`at`]): with
//! `DIAG_MEMTRACE` set, each phase a two-pass `check` passes prints the process's resident and peak
//! resident memory to stderr, and the seconds since the first phase; set to a phase's name, the run also ends there (so that `heaptrack`
//! reports what is live at that point as leaked). Linux only (`/proc/self/status`).

/// Print resident memory at phase `at` when `DIAG_MEMTRACE` is set; end the run there when it
/// names `at`. The first phase a two-pass check passes is `pass1-start`.
pub fn at(phase: &str) {
    let Some(want) = std::env::var_os("DIAG_MEMTRACE") else {
        return;
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map_or("?", str::trim)
            .trim_end_matches(" kB")
            .to_string()
    };
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let since = START.get_or_init(std::time::Instant::now).elapsed();
    eprintln!(
        "diag: memtrace {phase}: rss {} kB (anonymous {} kB, files {} kB), peak {} kB, heap in use {} kB, {:.2} s after the first phase",
        kb("VmRSS:"),
        kb("RssAnon:"),
        kb("RssFile:"),
        kb("VmHWM:"),
        heap_in_use().map_or("?".to_string(), |b| (b / 1024).to_string()),
        since.as_secs_f64()
    );
    if want == phase {
        std::process::exit(0);
    }
}

/// Bytes the allocator has handed out and not had back, in all its arenas: beside the resident
/// memory, what is live and what is kept free (glibc only).
fn heap_in_use() -> Option<usize> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// glibc's `struct mallinfo2`.
        #[repr(C)]
        struct MallInfo2 {
            arena: usize,
            ordblks: usize,
            smblks: usize,
            hblks: usize,
            hblkhd: usize,
            usmblks: usize,
            fsmblks: usize,
            uordblks: usize,
            fordblks: usize,
            keepcost: usize,
        }
        extern "C" {
            fn mallinfo2() -> MallInfo2;
        }
        // SAFETY: mallinfo2 takes nothing and returns a plain struct of counters.
        let m = unsafe { mallinfo2() };
        Some(m.uordblks + m.hblkhd)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// Print a count worth knowing beside the phases (records held, ...) when `DIAG_MEMTRACE` is set.
pub fn note(what: impl FnOnce() -> String) {
    if std::env::var_os("DIAG_MEMTRACE").is_some() {
        eprintln!("diag: memtrace {}", what());
    }
}

/// Have the allocator map every block of 256 KiB or more on its own, so that freeing it gives the
/// pages back at once. glibc raises this threshold as large blocks are freed (up to 32 MiB), after
/// which the lists and buffers a phase frees stay resident among live blocks in its threads'
/// arenas: at 1 GB a two-pass check's resident memory was 55 MB above its live heap between the
/// passes, and its peak 193 MB; with the threshold fixed, 175 MB, in the same time.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        /// glibc's `M_MMAP_THRESHOLD`.
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: mallopt sets an allocator parameter; it takes no pointer.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 256 * 1024);
        }
    }
}

/// Hand the memory the allocator keeps free back to the system (glibc keeps what a phase's
/// threads freed in their arenas; the next phase allocates elsewhere).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only releases free heap pages; it takes no pointer of ours.
        unsafe {
            malloc_trim(0);
        }
    }
}
