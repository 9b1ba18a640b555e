//! Every parse path (line formats, JSON lines, CDP): the first byte picks a format, the rest is its text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn reg() -> &'static diag::defs::Registry {
    static R: OnceLock<diag::defs::Registry> = OnceLock::new();
    R.get_or_init(|| diag::defs::Registry::load(None).expect("built-in formats load"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let reg = reg();
    let Some(fmt) = reg.formats.get(pick as usize % reg.formats.len().max(1)) else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut p = diag::parse::SourceParser::new(fmt, reg);
    for (i, l) in text.lines().enumerate() {
        p.push(i as u64 + 1, l);
    }
    let lines = text.lines().count() as u64;
    let st = p.stats.clone();
    let events: usize = p.finish().iter().map(|(_, v)| v.len()).sum();
    assert!(events as u64 <= lines);
    assert!(st.continuation + st.meta + st.blank + st.unparsed + st.events <= lines + 1);
});
