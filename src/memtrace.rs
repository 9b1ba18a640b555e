//! Memory at the phases of a run, for measuring: with `DIAG_MEMTRACE` set, each phase a two-pass
//! `check` passes prints the process's resident and peak resident memory to stderr; set to a
//! phase's name, the run also ends there (so that `heaptrack` reports what is live at that point
//! as leaked). Linux only (`/proc/self/status`); elsewhere it prints nothing.

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
