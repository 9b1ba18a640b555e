//! Entity extraction (CIDs, truncated CIDs, UUIDs, names, fields) and owner lines on any record.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn reg() -> &'static diag::defs::Registry {
    static R: OnceLock<diag::defs::Registry> = OnceLock::new();
    R.get_or_init(|| diag::defs::Registry::load(None).expect("built-in formats load"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let reg = reg();
    let _ = reg.entities.owner(&text);
    let mut lines = text.lines();
    let mut ev = diag::model::Event {
        message: lines.next().unwrap_or_default().to_string(),
        continuation: lines.map(str::to_string).collect(),
        ..Default::default()
    };
    reg.entities.apply(&mut ev);
});
