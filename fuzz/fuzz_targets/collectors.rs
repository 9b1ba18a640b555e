//! Collector prefixes (compose, docker -t, GitHub Actions, nextest) and ANSI stripping.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn reg() -> &'static diag::defs::Registry {
    static R: OnceLock<diag::defs::Registry> = OnceLock::new();
    R.get_or_init(|| diag::defs::Registry::load(None).expect("built-in formats load"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let clean = diag::parse::strip_ansi(&text);
    assert!(clean.len() <= text.len());
    let (rest, _prefix) = diag::parse::strip_collectors(reg(), &clean);
    assert!(rest.len() <= clean.len());
});
