//! Embeds the built-in format definitions (`parsers/`) and rules (`rules/`) in the binary, so that adding a
//! format or a rule is a data file and no Rust.
use std::{env, fs, path::Path};

fn embed(dir: &str, ext: &str, out: &mut String, name: &str) {
    println!("cargo:rerun-if-changed={dir}");
    let mut files: Vec<_> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == ext));
    files.sort();
    out.push_str(&format!("pub static {name}: &[(&str, &str)] = &[\n"));
    for p in files {
        println!("cargo:rerun-if-changed={}", p.display());
        let abs = fs::canonicalize(&p).expect("canonical path of an embedded file");
        let file = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        out.push_str(&format!(
            "    ({file:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push_str("];\n");
}

fn main() {
    let mut out = String::new();
    embed("parsers", "toml", &mut out, "PARSERS");
    embed("rules", "toml", &mut out, "RULES");
    let dest = Path::new(&env::var("OUT_DIR").expect("OUT_DIR set by cargo")).join("builtin.rs");
    fs::write(dest, out).expect("write builtin.rs");
}
