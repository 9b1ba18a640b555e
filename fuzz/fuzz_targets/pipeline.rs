//! The whole engine: two sources (split at the first NUL) through detection, parsing, correlation,
//! every built-in rule and the JSON report.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Env {
    reg: diag::defs::Registry,
    rules: Vec<diag::rules::load::Rule>,
}

fn env() -> &'static Env {
    static E: OnceLock<Env> = OnceLock::new();
    E.get_or_init(|| Env {
        reg: diag::defs::Registry::load(None).expect("built-in formats load"),
        rules: diag::rules::load::load_rules(None).expect("built-in rules load"),
    })
}

fuzz_target!(|data: &[u8]| {
    let env = env();
    let mut sources = Vec::new();
    for (i, part) in data.splitn(2, |b| *b == 0).enumerate() {
        let text = String::from_utf8_lossy(part);
        if let Ok(p) = diag::pipeline::parse_str(&env.reg, &format!("s{i}"), &text) {
            sources.extend(p.sources);
        }
    }
    if sources.is_empty() {
        return;
    }
    let tl = diag::correlate::correlate(
        sources,
        &env.reg.anchors,
        &env.reg.entities,
        &diag::correlate::Options::default(),
    );
    let a = diag::rules::run(&env.rules, &Default::default(), tl);
    let _ = serde_json::to_string(&diag::report::wire::build(&a));
});
