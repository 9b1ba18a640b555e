//! The format, collector, entity and anchor loaders: any TOML text loads or is a clear error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let r = match pick % 4 {
        0 => diag::defs::format::load_format("fuzz.toml", text).map(|f| {
            // A loaded format must also survive having its own samples checked.
            let _ = diag::parse::samples::check_samples(&f);
        }),
        1 => diag::defs::collectors::load_collectors("collectors.toml", text).map(|_| ()),
        2 => diag::defs::Extractors::load("entities.toml", text).map(|_| ()),
        _ => diag::defs::anchors::load_anchors("anchors.toml", text).map(|_| ()),
    };
    if let Err(e) = r {
        assert!(!e.to_string().is_empty());
    }
});
