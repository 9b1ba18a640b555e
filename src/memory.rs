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
        "diag: memtrace {phase}: rss {} kB, peak {} kB, {:.2} s after the first phase",
        kb("VmRSS:"),
        kb("VmHWM:"),
        since.as_secs_f64()
    );
    if want == phase {
        std::process::exit(0);
    }
}

/// Print a count worth knowing beside the phases (records held, ...) when `DIAG_MEMTRACE` is set.
pub fn note(what: impl FnOnce() -> String) {
    if std::env::var_os("DIAG_MEMTRACE").is_some() {
        eprintln!("diag: memtrace {}", what());
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
