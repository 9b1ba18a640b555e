//! The `diag` binary: a thin front end over the library.
fn main() {
    diag::memory::tune();
    // A bug must not end in a raw panic (exit 101, log text printed unfiltered): say what happened,
    // terminal-safe, and exit 2 like any other error that stops a run.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "diag: internal error{at}: {}; this is a bug: please report it with the input that caused it",
            diag::report::sanitize::terminal_safe(&what)
        );
    }));
    match std::panic::catch_unwind(diag::cli::run) {
        Ok(code) => std::process::exit(code),
        Err(_) => std::process::exit(2),
    }
}
