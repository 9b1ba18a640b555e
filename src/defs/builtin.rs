//! The built-in definitions (`parsers/*.toml`, `rules/*.toml`), embedded at compile time by `build.rs`.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// Built-in rule files, embedded at compile time: (file name, contents).
pub fn builtin_rules() -> &'static [(&'static str, &'static str)] {
    embedded::RULES
}

/// Built-in parser files, embedded at compile time: (file name, contents).
pub fn builtin_parsers() -> &'static [(&'static str, &'static str)] {
    embedded::PARSERS
}
