//! Format detection over arbitrary first lines and a file name.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn reg() -> &'static diag::defs::Registry {
    static R: OnceLock<diag::defs::Registry> = OnceLock::new();
    R.get_or_init(|| diag::defs::Registry::load(None).expect("built-in formats load"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (name, body) = text.split_once('\n').unwrap_or(("", &text));
    let lines: Vec<String> = body.lines().map(str::to_string).collect();
    let d = diag::parse::detect(reg(), &lines, Some(name));
    assert!(reg().format(&d.format).is_some() || d.format == "plain");
    assert!((0.0..=1.0).contains(&d.confidence));
});
