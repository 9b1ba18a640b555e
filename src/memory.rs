//! Memory between the phases of a run: what a phase freed is given back before the next one
//! ([`trim`]), and, for measuring, resident memory is printed at each phase ([`at`]): with
//! `DIAG_MEMTRACE` set, each phase a two-pass `check` passes prints the process's resident and peak
//! resident memory to stderr; set to a phase's name, the run also ends there (so that `heaptrack`
//! reports what is live at that point as leaked). Linux only (`/proc/self/status`).

/// Print resident memory at phase `at` when `DIAG_MEMTRACE` is set; end the run there when it
/// names `at`.
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
    eprintln!(
        "diag: memtrace {phase}: rss {} kB, peak {} kB",
        kb("VmRSS:"),
        kb("VmHWM:")
    );
    if want == phase {
        std::process::exit(0);
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
