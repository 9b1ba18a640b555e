//! Never panic on input: arbitrary text through every format, correlation and every rule.

use diag::correlate::{self, Options};
use diag::defs::Registry;
use diag::pipeline::{parse_reader, parse_str};
use diag::source::from_reader;
use proptest::prelude::*;

fn run_all(reg: &Registry, rules: &[diag::rules::load::Rule], texts: &[String]) {
    let mut sources = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        if let Ok(p) = parse_str(reg, &format!("s{i}"), t) {
            sources.extend(p.sources);
        }
    }
    if sources.is_empty() {
        return;
    }
    let tl = correlate::correlate(sources, &reg.anchors, &reg.entities, &Options::default());
    let a = diag::rules::run(rules, &Default::default(), tl);
    let _ = diag::report::wire::build(&a);
}

// Pieces of real shapes, so that random mixes reach deep into the parsers and rules.
const PIECES: &[&str] = &[
    " INFO citadel: a.rs:1: ",
    "ERROR citadel: /x/toolset.rs:252: Attempted to get ratchet v9 for cid=4926344781773734389, but does not exist! len: 1. Oldest: 0. Newest: 0",
    "Panic occurred: panicked at s.rs:1:2:\n",
    "internal-service-1  | 2025-12-30T01:43:41.021026772Z ",
    "[LOG] ",
    " @ http://localhost:5173/a.ts:1",
    "12:00:01.123 a.js:1 ",
    "P2PAutoConnect: Connect failed for 21402289..., retry in 1s (attempt 1)",
    "WebSocket communication task ended",
    "Sending reliable P2P message from 2140228971562830034 to 4926344781773734389",
    "{\"method\":\"Runtime.consoleAPICalled\",\"params\":{\"type\":\"log\",\"args\":[{\"type\":\"string\",\"value\":\"x\"}],\"timestamp\":1.7e12}}",
    "{\"timestamp\":\"2026-01-01T00:00:00Z\",\"level\":\"INFO\",\"fields\":{\"message\":\"m\"},\"target\":\"citadel\"}",
    "msgid=1 [log] x (1 args)",
    "[1:2:1230/014341.123456:INFO:CONSOLE:146] \"x\", source: http://a/b.js (146)",
    "channel closed",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\n",
    "\r\n",
    "    at f (a.js:1:2)\n",
    "Understand this errorAI",
    "13052662023604289317",
    "undefined",
    "97d21b6a-c372-47ee-be3f-fd8e4e59cd3e",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        let reg = Registry::load(None).expect("builtins load");
        let rules = diag::rules::load::load_rules(None).expect("rules load");
        run_all(&reg, &rules, &[s]);
    }

    #[test]
    fn mixes_of_real_shapes_never_panic(picks in proptest::collection::vec((0..PIECES.len(), 0..3usize), 0..80)) {
        let reg = Registry::load(None).expect("builtins load");
        let rules = diag::rules::load::load_rules(None).expect("rules load");
        let mut texts = vec![String::new(), String::new(), String::new()];
        for (p, s) in picks {
            texts[s].push_str(PIECES[p]);
        }
        run_all(&reg, &rules, &texts);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let reg = Registry::load(None).expect("builtins load");
        if let Ok(p) = parse_reader(&reg, match from_reader(Box::new(std::io::Cursor::new(bytes)), "b") {
            Ok(r) => r,
            Err(_) => return Ok(()),
        }, "b", "b", None, None, None) {
            let tl = correlate::correlate(p.sources, &reg.anchors, &reg.entities, &Options::default());
            let rules = diag::rules::load::load_rules(None).expect("rules load");
            let _ = diag::rules::run(&rules, &Default::default(), tl);
        }
    }
}
