//! The rule loader: any TOML text is a rule or a clear error with file and line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = diag::rules::load::load_rule("fuzz.toml", text) {
        assert!(!e.to_string().is_empty());
    }
});
