//! Golden tests of detection and parsing: every file of `samples/formats/`, `samples/seed/` and
//! `samples/healthy/` is detected and parsed through the library, and a compact rendering of its events
//! is compared with an insta snapshot (`INSTA_UPDATE=always cargo test --test formats` accepts; then read
//! the snapshots). Explicit tests pin the tricky shapes and the detected format of every sample.

use diag::defs::Registry;
use diag::model::{CidRef, Event, RawTime};
use diag::parse::parse_text;
use diag::pipeline::parse_input;
use diag::source::Input;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Directories whose files are golden-tested.
const SAMPLE_DIRS: &[&str] = &["samples/formats", "samples/seed", "samples/healthy"];

/// Expected detection of every sample file: (path under `samples/`, format). Every sample must be listed.
const EXPECTED_FORMAT: &[(&str, &str)] = &[
    ("formats/cdp.jsonl", "cdp"),
    ("formats/chrome-save-as.log", "chrome-devtools"),
    ("formats/chrome-selection-copy.log", "chrome-devtools"),
    ("formats/chrome-timestamps.log", "chrome-devtools"),
    ("formats/chrome_debug.log", "chrome-debug-log"),
    ("formats/citadel-cargo-test.log", "citadel-tracing"),
    ("formats/citadel-compose-t.log", "citadel-tracing"),
    ("formats/citadel-compose.log", "citadel-tracing"),
    ("formats/citadel-docker-t.log", "citadel-tracing"),
    ("formats/citadel-github-actions.log", "citadel-tracing"),
    ("formats/citadel-handpasted.log", "citadel-pasted"),
    ("formats/citadel-nextest.log", "citadel-tracing"),
    ("formats/citadel-nocolor.log", "citadel-tracing"),
    ("formats/citadel-plain.log", "citadel-tracing"),
    ("formats/devtools-mcp.log", "devtools-mcp"),
    ("formats/firefox-export-timestamps.log", "firefox"),
    ("formats/firefox-export.log", "firefox"),
    ("formats/plain.txt", "plain"),
    ("formats/playwright-mcp-section.log", "playwright-mcp"),
    ("formats/playwright-mcp.log", "playwright-mcp"),
    ("formats/selenium-java.log", "selenium"),
    ("formats/selenium.jsonl", "selenium-json"),
    ("formats/selenium.log", "selenium"),
    ("formats/tracing-json.jsonl", "tracing-json"),
    ("seed/EXPECTED.md", "plain"),
    ("seed/alice-tab0.playwright.log", "playwright-mcp"),
    ("seed/bob-tab1.devtools.log", "chrome-devtools"),
    ("seed/internal-service.log", "citadel-tracing"),
    ("healthy/EXPECTED.md", "plain"),
    ("healthy/alice-tab0.playwright.log", "playwright-mcp"),
    ("healthy/bob-tab1.devtools.log", "chrome-devtools"),
    ("healthy/internal-service.log", "citadel-tracing"),
];

fn registry() -> &'static Registry {
    static REG: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    REG.get_or_init(|| match Registry::load(None) {
        Ok(r) => r,
        Err(e) => panic!("built-in definitions do not load: {e}"),
    })
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Sample files (relative to the crate root), sorted, skipping README files.
fn sample_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in SAMPLE_DIRS {
        let Ok(rd) = std::fs::read_dir(root().join(d)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with("README") && !n.starts_with('.'))
            })
            .collect();
        files.sort();
        out.extend(
            files
                .into_iter()
                .map(|p| Path::new(d).join(p.file_name().unwrap_or_default())),
        );
    }
    out
}

fn raw_ts(t: &Option<RawTime>) -> String {
    match t {
        None => "-".into(),
        Some(RawTime::Instant(t)) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        Some(RawTime::Local(t)) => format!("{}L", t.format("%Y-%m-%dT%H:%M:%S%.f")),
        Some(RawTime::MonthDay(m, d, t)) => format!("{m:02}{d:02}/{}", t.format("%H:%M:%S%.f")),
        Some(RawTime::TimeOfDay(t)) => t.format("%H:%M:%S%.f").to_string(),
    }
}

fn cid(c: &CidRef) -> String {
    match c {
        CidRef::Full(v) => v.to_string(),
        CidRef::Prefix(p) => format!("{p}..."),
        CidRef::Lost => "lost".into(),
    }
}

/// One event on one line: span, level, target, location, time, message, continuation count, entities.
fn render_event(ev: &Event) -> String {
    let mut s = String::new();
    let span = if ev.end_line > ev.line {
        format!("{}-{}", ev.line, ev.end_line)
    } else {
        ev.line.to_string()
    };
    let _ = write!(s, "{span} {} ", ev.level.map(|l| l.as_str()).unwrap_or("-"));
    if let Some(t) = &ev.target {
        let _ = write!(s, "[{t}] ");
    }
    if let Some(l) = &ev.location {
        let _ = write!(s, "@{l} ");
    }
    if ev.raw_ts.is_some() {
        let _ = write!(s, "ts={} ", raw_ts(&ev.raw_ts));
    }
    let msg: String = ev.message.chars().take(160).collect();
    let _ = write!(s, "| {msg}");
    if ev.message.chars().count() > 160 {
        s.push('…');
    }
    if !ev.continuation.is_empty() {
        let _ = write!(s, " (+{})", ev.continuation.len());
    }
    if !ev.cids.is_empty() {
        let v: Vec<String> = ev.cids.iter().map(cid).collect();
        let _ = write!(s, " cids={}", v.join(","));
    }
    if !ev.uuids.is_empty() {
        let v: Vec<&str> = ev.uuids.iter().map(|u| &u[..8.min(u.len())]).collect();
        let _ = write!(s, " uuids={}", v.join(","));
    }
    if !ev.fields.is_empty() {
        let v: Vec<String> = ev
            .fields
            .iter()
            .map(|(k, v)| {
                let v: String = v.chars().take(60).collect();
                format!("{k}={v}")
            })
            .collect();
        let _ = write!(s, " {{{}}}", v.join(" "));
    }
    s
}

fn input(rel: &Path) -> Input {
    Input {
        label: rel
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or("x")
            .to_string(),
        path: Some(root().join(rel)),
        labelled: false,
        spooled: false,
    }
}

/// Detect and parse one file; the rendering and the detected format.
fn render_file(reg: &Registry, rel: &Path) -> (String, String) {
    let parsed = match parse_input(reg, &input(rel), None) {
        Ok(p) => p,
        Err(e) => panic!("{}: {e}", rel.display()),
    };
    let mut s = String::new();
    let Some((first, _)) = parsed.sources.first() else {
        panic!("{}: no source", rel.display());
    };
    let d = &first.detection;
    let ps = &first.parse;
    let _ = writeln!(
        s,
        "format: {} ({} of {} lines)",
        d.format, d.matched, d.considered
    );
    let _ = writeln!(
        s,
        "lines: {} events, {} continuation, {} meta, {} blank, {} unparsed",
        ps.events, ps.continuation, ps.meta, ps.blank, ps.unparsed
    );
    for (n, t) in &ps.unparsed_samples {
        let _ = writeln!(s, "unparsed {n}: {t}");
    }
    for (info, evs) in &parsed.sources {
        if parsed.sources.len() > 1 {
            let _ = writeln!(s, "== {}", info.label);
        }
        for ev in evs {
            let _ = writeln!(s, "{}", render_event(ev));
        }
    }
    (s, d.format.clone())
}

fn snapshot_name(rel: &Path) -> String {
    rel.to_string_lossy()
        .trim_start_matches("samples/")
        .replace(['/', '.'], "_")
}

#[test]
fn golden_samples() {
    let reg = registry();
    let files = sample_files();
    assert!(!files.is_empty(), "no sample files found");
    for rel in files {
        let (text, _) = render_file(reg, &rel);
        insta::with_settings!({ omit_expression => true, description => rel.display().to_string() }, {
            insta::assert_snapshot!(snapshot_name(&rel), text);
        });
    }
}

#[test]
fn every_sample_is_detected_as_expected() {
    let reg = registry();
    let mut wrong = Vec::new();
    for rel in sample_files() {
        let key = rel
            .to_string_lossy()
            .trim_start_matches("samples/")
            .to_string();
        let Some((_, want)) = EXPECTED_FORMAT.iter().find(|(n, _)| *n == key) else {
            wrong.push(format!("{key}: not in EXPECTED_FORMAT (add it)"));
            continue;
        };
        let (_, got) = render_file(reg, &rel);
        if got != *want {
            wrong.push(format!("{key}: detected {got}, expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn parse(format: &str, text: &str) -> Vec<Event> {
    let reg = registry();
    match parse_text(reg, format, text) {
        Some((evs, _)) => evs,
        None => panic!("no format {format}"),
    }
}

fn one(format: &str, text: &str) -> Event {
    let evs = parse(format, text);
    assert_eq!(evs.len(), 1, "{format}: expected one record, got {evs:#?}");
    evs.into_iter().next().unwrap_or_default()
}

fn level(ev: &Event) -> &'static str {
    ev.level.map(|l| l.as_str()).unwrap_or("-")
}

/// The whole text of a sample file.
fn sample(rel: &str) -> String {
    match std::fs::read_to_string(root().join("samples").join(rel)) {
        Ok(t) => t,
        Err(e) => panic!("samples/{rel}: {e}"),
    }
}

const PANIC_PAYLOAD: &str = "called `Option::unwrap()` on a `None` value";

/// A panic's payload and its `Stack:` block stay with the panic record, in every host.
#[test]
fn panic_payload_and_stack_attached() {
    let cases = [
        ("chrome-devtools", "formats/chrome-save-as.log"),
        ("playwright-mcp", "formats/playwright-mcp.log"),
        ("devtools-mcp", "formats/devtools-mcp.log"),
    ];
    for (format, file) in cases {
        let evs = parse(format, &sample(file));
        let Some(p) = evs
            .iter()
            .find(|e| e.message.starts_with("panicked at src/lib.rs:612:41:"))
        else {
            panic!("{file}: no panic record");
        };
        assert_eq!(level(p), "error", "{file}");
        assert_eq!(
            p.continuation.first().map(String::as_str),
            Some(PANIC_PAYLOAD),
            "{file}"
        );
        assert!(
            p.continuation.iter().any(|l| l == "Stack:"),
            "{file}: {:?}",
            p.continuation
        );
        assert!(
            p.continuation
                .iter()
                .any(|l| l.contains("console_error_panic_hook::hook::h2f5cba2485098170")),
            "{file}: stack frames lost"
        );
        // The line after the panic record starts the next record.
        let after = evs.iter().find(|e| e.line > p.end_line);
        assert_eq!(after.map(|e| e.line), Some(p.end_line + 1), "{file}");
    }
    // Chrome: the DevTools stack table under the panic belongs to it, the trap is the next record.
    let evs = parse("chrome-devtools", &sample("formats/chrome-save-as.log"));
    let p = evs.iter().find(|e| e.message.starts_with("panicked at"));
    assert!(p.is_some_and(|p| p.continuation.last().map(String::as_str) == Some("Promise.then")));
    let trap = evs
        .iter()
        .find(|e| e.message == "Uncaught (in promise) RuntimeError: unreachable");
    let Some(trap) = trap else {
        panic!("no trap record")
    };
    assert_eq!(level(trap), "error");
    assert_eq!(
        trap.location.as_deref(),
        Some("citadel_internal_service_wasm_client_bg.wasm:0x25c0f3")
    );
    assert_eq!(trap.continuation.len(), 3, "{:?}", trap.continuation);
}

/// `    at` frames and DevTools stack-table rows (`fn @ file:line`, async rows) continue their record,
/// and a record with a stack table is at least a warning.
#[test]
fn chrome_stack_frames_attached() {
    let evs = parse("chrome-devtools", &sample("formats/chrome-timestamps.log"));
    let Some(e) = evs.iter().find(|e| {
        e.message
            .starts_with("P2PAutoConnect: Failed to establish reverse channel")
    }) else {
        panic!("record missing")
    };
    assert_eq!(
        e.continuation,
        [
            "    at rejectPending (request-response.ts:57:23)",
            "    at request-response.ts:64:9",
            "establishReverseChannel @ p2p-auto-connect-service.ts:187",
            "await in establishReverseChannel",
            "connectToPeer @ p2p-auto-connect-service.ts:162",
        ]
    );
    assert_eq!(level(e), "warn");
    assert_eq!(
        e.location.as_deref(),
        Some("p2p-auto-connect-service.ts:187")
    );
    assert!(matches!(e.raw_ts, Some(RawTime::TimeOfDay(_))));
    // A console.log record has no stack table and no level column: its words give one.
    let plain = one(
        "chrome-devtools",
        "02:43:42.423 citadel_internal_service_wasm_client.js:1023 Error sending WebSocket message: ConnectionNotOpen",
    );
    assert_eq!(level(&plain), "error");
    let quiet = one(
        "chrome-devtools",
        "02:43:42.424 citadel_internal_service_wasm_client.js:1023 Sending reliable P2P message",
    );
    assert_eq!(level(&quiet), "-");
    assert_eq!(
        plain.message,
        "Error sending WebSocket message: ConnectionNotOpen"
    );
}

/// Rust `log` through console_log's colour format: level and Rust location from the first line, the
/// text from the next one.
#[test]
fn console_log_colour_format() {
    let e = one(
        "chrome-devtools",
        "02:43:42.431 citadel_internal_service_wasm_client.js:1098 ERROR citadel-internal-service-connector/src/messenger/mod.rs:672 \nNetwork inbound task ended. Messenger is shutting down\n__wbg_error_7534b8e9a36f1ab4 @ citadel_internal_service_wasm_client.js:1098",
    );
    assert_eq!(level(&e), "error");
    assert_eq!(
        e.message,
        "Network inbound task ended. Messenger is shutting down"
    );
    assert_eq!(
        e.location.as_deref(),
        Some("citadel-internal-service-connector/src/messenger/mod.rs:672")
    );
    assert_eq!(
        e.field("anchor"),
        Some("citadel_internal_service_wasm_client.js:1098")
    );
    assert_eq!(e.continuation.len(), 1);
    // Playwright does not apply %c: the CSS stays in the text, the message is still the text line.
    let e = one(
        "playwright-mcp",
        "[INFO] %cINFO%c citadel-internal-service-connector/src/messenger/mod.rs:343 %c\n[P2P-DEBUG] MessageNotification arrived: cid=1, peer_cid=2, msg_len=204 color: white; padding: 0 3px; background: green; font-weight: bold; color: inherit background: inherit; color: inherit @ http://localhost:5173/x.js:1120",
    );
    assert_eq!(level(&e), "info");
    assert!(e
        .message
        .starts_with("[P2P-DEBUG] MessageNotification arrived: cid=1, peer_cid=2"));
    assert!(e.message.ends_with("color: inherit"), "{}", e.message);
    assert!(e.continuation.is_empty());
}

/// Selection copies: `Understand this errorAI` is cut off and gives the level; glued repeat digits
/// are cut off the anchor and kept as a field.
#[test]
fn chrome_selection_copy_artefacts() {
    let evs = parse(
        "chrome-devtools",
        &sample("formats/chrome-selection-copy.log"),
    );
    for e in &evs {
        assert!(!e.full_text().contains("Understand this"), "{e:?}");
    }
    let by_line = |n: u64| evs.iter().find(|e| e.line == n);
    let Some(e) = by_line(7) else {
        panic!("line 7")
    };
    assert_eq!(level(e), "error");
    assert_eq!(e.location.as_deref(), Some("connection-manager.ts:291"));
    assert_eq!(e.field("repeat"), Some("7"));
    assert_eq!(
        e.continuation.last().map(String::as_str),
        Some("startSessionPolling @ connection-manager.ts:259")
    );
    let Some(e) = by_line(13) else {
        panic!("line 13")
    };
    assert_eq!(level(e), "warn");
    assert_eq!(
        e.location.as_deref(),
        Some("p2p-auto-connect-service.ts:214")
    );
    assert_eq!(e.field("repeat"), Some("3"));
    // The anchor, then whitespace-only lines, then the text.
    let Some(e) = by_line(26) else {
        panic!("line 26")
    };
    assert_eq!(level(e), "error");
    assert_eq!(
        e.message,
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    );
    assert_eq!(e.location.as_deref(), Some("favicon.ico:1"));
    // One line: the artefact on the first line.
    let e = one(
        "chrome-devtools",
        "utils.js:106 Error: renderCardElement: Missing manifestKey for card item_23 in slot PLAYER1_HAND1Understand this errorAI",
    );
    assert_eq!(level(&e), "error");
    assert!(e.message.ends_with("PLAYER1_HAND1"));
    let e = one(
        "chrome-devtools",
        "2MetamaskSDKApp.js:18 request accounts ERR Error: Not connected",
    );
    assert_eq!(e.location.as_deref(), Some("MetamaskSDKApp.js:18"));
    assert_eq!(e.field("repeat"), Some("2"));
    assert_eq!(e.message, "request accounts ERR Error: Not connected");
    // Not repeat digits: a wasm module hash without an extension.
    let e = one(
        "chrome-devtools",
        "185b031e:0x2904 Uncaught (in promise) RuntimeError: unreachable",
    );
    assert_eq!(e.location.as_deref(), Some("185b031e:0x2904"));
    assert_eq!(e.field("repeat"), None);
    assert_eq!(level(&e), "error");
}

/// Firefox writes the location last: it is moved off the message (or off its own last line).
#[test]
fn firefox_location_moved_off_the_message() {
    let evs = parse("firefox", &sample("formats/firefox-export.log"));
    let Some(e) = evs.first() else {
        panic!("no events")
    };
    assert_eq!(
        e.message,
        "Initializing WASM client with URL: ws://127.0.0.1:12345"
    );
    assert_eq!(
        e.location.as_deref(),
        Some("citadel_internal_service_wasm_client.js:1023:17")
    );
    let Some(e) = evs.iter().find(|e| e.message == "PeerConnectSuccess:") else {
        panic!("block record")
    };
    assert_eq!(
        e.location.as_deref(),
        Some("p2p-auto-connect-service.ts:168:15")
    );
    assert_eq!(e.continuation.len(), 1, "{:?}", e.continuation);
    assert!(e.continuation[0].starts_with("Object { cid: 4926344781773734389n"));
    // Error stack with 4-space frames, location alone on the last line.
    let Some(e) = evs.iter().find(|e| {
        e.message
            .starts_with("P2PAutoConnect: Failed to establish reverse channel")
    }) else {
        panic!("stack record")
    };
    assert_eq!(e.continuation.len(), 4, "{:?}", e.continuation);
    assert_eq!(
        e.location.as_deref(),
        Some("p2p-auto-connect-service.ts:187:17")
    );
    // The repeat count before the location.
    let Some(e) = evs.iter().find(|e| {
        e.message
            .starts_with("ConnectionManager: Failed to get active sessions")
    }) else {
        panic!("repeat record")
    };
    assert_eq!(e.field("repeat"), Some("4"));
    assert!(e.message.ends_with("channel closed"));
    let Some(trap) = evs
        .iter()
        .find(|e| e.message.contains("unreachable executed"))
    else {
        panic!("trap")
    };
    assert_eq!(level(trap), "error");
    // With timestamps: the time is read, the location still cut.
    let evs = parse("firefox", &sample("formats/firefox-export-timestamps.log"));
    let Some(e) = evs.first() else {
        panic!("no events")
    };
    assert!(matches!(e.raw_ts, Some(RawTime::TimeOfDay(_))));
    assert_eq!(
        e.message,
        "Initializing WASM client with URL: ws://127.0.0.1:12345"
    );
    // Error.stack frames `fn@url:l:c` are not locations.
    let e = one(
        "firefox",
        "panicked at /x/module.rs:74:77:\ncalled `Option::unwrap()` on a `None` value\n\nStack:\n\ny_/e.wbg.__wbg_new_abda76e883ba8a5f@https://r2.revengi.in/index.mjs:11:40940\n@https://r2.revengi.in/wasmer_js_bg.wasm:wasm-function[1120]:0x2b4935\n\n\nindex.mjs:11:40940",
    );
    assert_eq!(e.location.as_deref(), Some("index.mjs:11:40940"));
    assert_eq!(
        e.continuation.first().map(String::as_str),
        Some(PANIC_PAYLOAD)
    );
    assert_eq!(level(&e), "error");
}

/// CDP timestamps are epoch milliseconds, floats, sometimes in exponent form.
#[test]
fn cdp_exponent_timestamps() {
    let e = one(
        "cdp",
        r#"{"method":"Log.entryAdded","params":{"entry":{"source":"network","level":"error","text":"Failed to load resource: the server responded with a status of 401 (Unauthorized)","timestamp":1.6225670530905408e+12,"url":"http://42.192.77.89:9200/v1/","networkRequestId":"57902.19"}},"sessionId":"D5B25250902223AE0FD9918AE16CB241"}"#,
    );
    let Some(RawTime::Instant(t)) = e.raw_ts else {
        panic!("no instant: {:?}", e.raw_ts)
    };
    assert_eq!(
        t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "2021-06-01T17:04:13.090Z"
    );
    assert_eq!(level(&e), "error");
    assert_eq!(e.target.as_deref(), Some("network"));
    assert_eq!(e.location.as_deref(), Some("http://42.192.77.89:9200/v1/"));
    // consoleAPICalled: args joined; exceptionThrown: description on several lines.
    let evs = parse("cdp", &sample("formats/cdp.jsonl"));
    assert!(evs
        .iter()
        .all(|e| matches!(e.raw_ts, Some(RawTime::Instant(_)))));
    let Some(e) = evs
        .iter()
        .find(|e| e.message.starts_with("ConnectionManager:"))
    else {
        panic!("joined args")
    };
    assert_eq!(
        e.message,
        "ConnectionManager: Failed to get active sessions Failed to send message: channel closed"
    );
    // An object argument reads as the values of its preview (ids for the anchors), in exponent time.
    let Some(e) = evs
        .iter()
        .find(|e| e.message.starts_with("PeerConnectSuccess:"))
    else {
        panic!("object preview")
    };
    assert!(e.uuids.iter().any(|u| u.starts_with("a4e91b7c")), "{e:?}");
    assert!(e.message.contains("4926344781773734389n"), "{}", e.message);
    let Some(e) = evs
        .iter()
        .find(|e| e.message == "RuntimeError: unreachable")
    else {
        panic!("exception")
    };
    assert_eq!(level(e), "error");
    assert!(!e.continuation.is_empty());
    let Some(p) = evs.iter().find(|e| e.message.starts_with("panicked at")) else {
        panic!("panic")
    };
    assert_eq!(
        p.continuation.first().map(String::as_str),
        Some(PANIC_PAYLOAD)
    );
}

/// chrome_debug.log: a console text with a newline runs until `", source: url (n)`.
#[test]
fn chrome_debug_two_line_message() {
    let evs = parse(
        "chrome-debug-log",
        "[12345:12345:1230/014341.431226:INFO:CONSOLE:1098] \"first line\nsecond line\", source: http://localhost:5173/app.js (1098)\n[12345:12345:1230/014341.500000:INFO:CONSOLE:12] \"Uncaught TypeError: x is not a function\", source: http://localhost:5173/app.js (12)\n[12345:12371:1230/014341.415771:ERROR:bus.cc(396)] Failed to connect to the bus",
    );
    assert_eq!(evs.len(), 3, "{evs:#?}");
    let e = &evs[0];
    assert_eq!((e.line, e.end_line), (1, 2));
    assert_eq!(e.message, "first line");
    assert_eq!(e.continuation, ["second line"]);
    assert_eq!(
        e.location.as_deref(),
        Some("http://localhost:5173/app.js:1098")
    );
    assert_eq!(level(e), "info");
    assert!(matches!(e.raw_ts, Some(RawTime::MonthDay(12, 30, _))));
    assert_eq!(level(&evs[1]), "error");
    assert_eq!(evs[1].message, "Uncaught TypeError: x is not a function");
    // Chromium's own ERROR lines are about the browser, not the page.
    assert_eq!(level(&evs[2]), "debug");
    assert_eq!(evs[2].field("severity"), Some("ERROR"));
    assert_eq!(evs[2].location.as_deref(), Some("bus.cc:396"));
    // The colour format of console_log, and the sample file's.
    let evs = parse("chrome-debug-log", &sample("formats/chrome_debug.log"));
    let Some(e) = evs.iter().find(|e| e.line == 6) else {
        panic!("line 6")
    };
    assert_eq!(e.end_line, 7);
    assert_eq!(level(e), "error");
    assert!(e
        .message
        .starts_with("Network inbound task ended. Messenger is shutting down"));
    assert_eq!(
        e.location.as_deref(),
        Some("citadel-internal-service-connector/src/messenger/mod.rs:672")
    );
}

/// Playwright MCP: headers are meta, multi-line texts end at ` @ url:line`, trimmed lines without
/// the location still start records, page errors without [TYPE] are error records.
#[test]
fn playwright_mcp_shapes() {
    let text = "Total messages: 4 (Errors: 1, Warnings: 1)\nReturning 2 messages for level \"info\"\n\n[LOG] PeerConnectSuccess: {cid: 705028106378368169, peer_cid: 264072795762843337}\n[LOG] [P2P] loadCachedMessages: Loaded 2 conversations from LocalDB\n[ERROR] [PeerList] Failed to load peers: Error: ListAllPeers request timed out\n    at rejectPending (http://localhost:5173/src/lib/websocket/request-response.ts:57:23) @ http://localhost:5173/src/lib/p2p/peer-list-store.ts:83\nTypeError: Cannot read properties of undefined (reading 'charAt')\n    at WorkspaceSwitcher.tsx:433:152\n[INFO] %cDownload the React DevTools for a better development experience: https://reactjs.org/link/react-devtools font-weight:bold @ http://localhost:5173/chunk.js:21550";
    let reg = registry();
    let Some((evs, stats)) = parse_text(reg, "playwright-mcp", text) else {
        panic!("no format")
    };
    assert_eq!(stats.meta, 2);
    assert_eq!(stats.unparsed, 0);
    let got: Vec<(u64, &str, &str, usize)> = evs
        .iter()
        .map(|e| (e.line, level(e), e.message.as_str(), e.continuation.len()))
        .collect();
    assert_eq!(
        got,
        [
            (4, "info", "PeerConnectSuccess: {cid: 705028106378368169, peer_cid: 264072795762843337}", 0),
            (5, "info", "[P2P] loadCachedMessages: Loaded 2 conversations from LocalDB", 0),
            (6, "error", "[PeerList] Failed to load peers: Error: ListAllPeers request timed out", 1),
            (8, "error", "TypeError: Cannot read properties of undefined (reading 'charAt')", 1),
            (10, "info", "%cDownload the React DevTools for a better development experience: https://reactjs.org/link/react-devtools font-weight:bold", 0),
        ]
    );
    assert_eq!(
        evs[2].location.as_deref(),
        Some("http://localhost:5173/src/lib/p2p/peer-list-store.ts:83")
    );
    assert_eq!(
        evs[2].continuation,
        ["    at rejectPending (http://localhost:5173/src/lib/websocket/request-response.ts:57:23)"]
    );
    // The location alone on the last line (a text ending in a newline) leaves no empty line.
    let e = one(
        "playwright-mcp",
        "[ERROR] panicked at src/lib.rs:1:2:\nboom\n\n @ http://localhost:5173/app.js:9",
    );
    assert_eq!(e.continuation, ["boom"]);
    assert_eq!(
        e.location.as_deref(),
        Some("http://localhost:5173/app.js:9")
    );
}

/// chrome-devtools-mcp: `(k args)` / `[n times]` cut and kept; stack lines follow the record.
#[test]
fn devtools_mcp_shapes() {
    let evs = parse("devtools-mcp", &sample("formats/devtools-mcp.log"));
    let Some(e) = evs.iter().find(|e| e.field("msgid") == Some("6")) else {
        panic!("msgid 6")
    };
    assert_eq!(level(e), "error");
    assert_eq!(
        e.message,
        "ConnectionManager: Failed to get active sessions Failed to send message: channel closed"
    );
    assert_eq!(e.field("args"), Some("2"));
    assert_eq!(e.field("times"), Some("4"));
    assert_eq!(e.continuation.len(), 4);
    let Some(e) = evs.iter().find(|e| e.field("msgid") == Some("8")) else {
        panic!("msgid 8")
    };
    assert_eq!(e.field("args"), Some("1"));
    assert!(e.continuation.iter().all(|l| !l.contains("(1 args)")));
    let e = one("devtools-mcp", "Error> app.js:12:5: Uncaught Error: boom");
    assert_eq!(level(&e), "error");
    assert_eq!(e.location.as_deref(), Some("app.js:12:5"));
    assert_eq!(e.message, "Uncaught Error: boom");
}

/// Selenium: SEVERE is an error, WARNING a warning; the script location is taken off the message.
#[test]
fn selenium_levels_and_locations() {
    let evs = parse("selenium", &sample("formats/selenium.log"));
    let levels: Vec<&str> = evs.iter().map(level).collect();
    assert_eq!(
        levels,
        ["info", "info", "debug", "info", "warn", "error", "error", "error", "error", "warn"]
    );
    assert_eq!(
        evs[4].location.as_deref(),
        Some("http://localhost:5173/src/lib/wasm-debug-bridge.ts:40:12")
    );
    assert_eq!(evs[4].target.as_deref(), Some("console-api"));
    assert!(matches!(evs[0].raw_ts, Some(RawTime::Instant(_))));
    let evs = parse("selenium", &sample("formats/selenium-java.log"));
    assert_eq!(level(&evs[5]), "error");
    assert_eq!(level(&evs[4]), "warn");
    let evs = parse("selenium-json", &sample("formats/selenium.jsonl"));
    assert_eq!(level(&evs[5]), "error");
    assert_eq!(evs[8].target.as_deref(), Some("network"));
}

/// tracing-subscriber JSON: message, level, target, file:line, other fields; a message-less event
/// reads as its fields.
#[test]
fn tracing_json_fields() {
    let evs = parse("tracing-json", &sample("formats/tracing-json.jsonl"));
    let Some(e) = evs.iter().find(|e| e.message == "peer channel ready") else {
        panic!("fields record")
    };
    assert_eq!(e.field("cid"), Some("13052662023604289317"));
    assert_eq!(e.field("udp"), Some("false"));
    assert_eq!(e.target.as_deref(), Some("citadel"));
    assert!(e.location.as_deref().is_some_and(|l| l.ends_with(".rs:58")));
    let Some(e) = evs.iter().find(|e| e.field("error").is_some()) else {
        panic!("error record")
    };
    assert_eq!(e.message, "error=Queue handler signalled shutdown");
    let Some(p) = evs.iter().find(|e| e.message.starts_with("Panic occurred")) else {
        panic!("panic")
    };
    assert_eq!(
        p.continuation.first().map(String::as_str),
        Some(PANIC_PAYLOAD)
    );
    assert_eq!(level(p), "error");
}

/// Lines of one format are never claimed by another: the service log, hand-pasted service lines and
/// each browser shape, one line at a time.
#[test]
fn single_lines_detect_as_their_format() {
    let reg = registry();
    let cases = [
        (" INFO citadel: citadel-internal-service/src/kernel/requests/get_sessions.rs:117: GetSessions: Found 14 total sessions in server_connection_map", "citadel-tracing"),
        ("             at /usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/anyhow-1.0.105/src/backtrace.rs:10:14", ""),
        ("[INFO] About to connect to server 127.0.0.1:12349 for user user1_1764717792", "citadel-pasted"),
        ("ERROR: Attempted to get ratchet v9 for cid=4926344781773734389, but does not exist!", "citadel-pasted"),
        ("[ERROR] ConnectionManager: Failed to get active sessions @ http://localhost:5173/src/lib/connection-manager.ts:290", "playwright-mcp"),
        ("[LOG] PeerConnectSuccess: {cid: 705028106378368169, peer_cid: 264072795762843337}", "playwright-mcp"),
        ("msgid=1 [log] Service Worker starting... (1 args)", "devtools-mcp"),
        ("02:43:42.423 citadel_internal_service_wasm_client.js:1023 Error sending WebSocket message: ConnectionNotOpen", "chrome-devtools"),
        ("state.js:455 [Refactor] Initialized new GameState.cardSlots with 72 null entries.", "chrome-devtools"),
        ("connectWithRetry @ p2p-auto-connect-service.ts:214", "chrome-devtools"),
        ("WebSocket connected successfully citadel_internal_service_wasm_client.js:1023:17", "firefox"),
        ("[4082634:4082634:1017/153703.620972:INFO:CONSOLE:146] \"another line.\", source: http://localhost:8888/test.html (146)", "chrome-debug-log"),
        ("[2022-06-08T15:34:59.131Z] [SEVERE] https://www.example.com/favicon.ico - Failed to load resource", "selenium"),
        ("WebSocket communication task ended", ""),
        ("Panic occurred: panicked at /usr/local/cargo/git/checkouts/x/session.rs:2254:18:", ""),
    ];
    for (line, want) in cases {
        let got = reg
            .formats
            .iter()
            .find(|f| f.detects(line))
            .map(|f| f.name.as_str())
            .unwrap_or("");
        assert_eq!(got, want, "{line}");
    }
}

/// Chrome's Save-as file name (`<host>-<epoch ms>.log`) tips an unsure detection towards DevTools.
#[test]
fn chrome_save_as_file_name_counts() {
    let reg = registry();
    let lines: Vec<String> = [
        "mapLeaflet:1 map ready",
        "Plain words that fit nothing",
        "More plain words",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let d = diag::parse::detect(reg, &lines, Some("localhost-1767145425123.log"));
    assert_eq!(d.format, "plain", "no signature at all: {d:?}");
    let lines: Vec<String> = [
        "main.js:28 DEBUG: Game state initialized.",
        "Plain words that fit nothing",
        "More plain words",
        "[INFO] a pasted line",
        "[INFO] another pasted line",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let d = diag::parse::detect(reg, &lines, None);
    assert_eq!(d.format, "citadel-pasted", "{d:?}");
    let d = diag::parse::detect(reg, &lines, Some("localhost-1767145425123.log"));
    assert_eq!(d.format, "chrome-devtools", "{d:?}");
}

/// WebDriver BiDi `log.entryAdded` reads like CDP; Playwright's `[pid=N][err]` prefix on Chromium's log.
#[test]
fn bidi_and_prefixed_chromium_lines() {
    let e = one(
        "cdp",
        r#"{"type":"event","method":"log.entryAdded","params":{"type":"console","method":"warn","level":"warn","text":"P2PAutoConnect: Timeout waiting for 21402289... to connect","timestamp":1767145425123,"source":{"realm":"r1","context":"c1"}}}"#,
    );
    assert_eq!(level(&e), "warn");
    assert_eq!(
        e.message,
        "P2PAutoConnect: Timeout waiting for 21402289... to connect"
    );
    assert!(matches!(e.raw_ts, Some(RawTime::Instant(_))));
    let e = one(
        "chrome-debug-log",
        "[pid=55176][err] [0424/052418.372479:INFO:CONSOLE:2298] \"WebSocket communication task ended\", source: http://localhost:3000/app.js (2298)",
    );
    assert_eq!(e.message, "WebSocket communication task ended");
    assert_eq!(
        e.location.as_deref(),
        Some("http://localhost:3000/app.js:2298")
    );
    assert!(matches!(e.raw_ts, Some(RawTime::MonthDay(4, 24, _))));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// No input makes any format panic, and every line is accounted for.
    #[test]
    fn no_format_panics_on_arbitrary_lines(lines in proptest::collection::vec(".{0,80}", 0..12)) {
        let reg = registry();
        let text = lines.join("\n");
        for f in &reg.formats {
            let Some((evs, st)) = parse_text(reg, &f.name, &text) else { continue };
            let n = text.lines().count() as u64;
            proptest::prop_assert_eq!(st.events + st.continuation + st.meta + st.blank + st.unparsed, n, "{}", f.name);
            proptest::prop_assert!(evs.len() as u64 == st.events, "{}", f.name);
        }
    }
}

/// JSON formats refine a message with their start patterns: console_log's colour format in CDP, the
/// script location in Selenium's JSON.
#[test]
fn json_messages_refined_by_start_patterns() {
    let e = one(
        "cdp",
        r#"{"method":"Runtime.consoleAPICalled","params":{"type":"info","args":[{"type":"string","value":"%cINFO%c citadel-internal-service-connector/src/messenger/mod.rs:343 %c\n[P2P-DEBUG] MessageNotification arrived: cid=4926344781773734389, peer_cid=2140228971562830034, msg_len=204"},{"type":"string","value":"color: white; background: green;"}],"timestamp":1767059022431.5}}"#,
    );
    assert_eq!(level(&e), "info");
    assert!(e
        .message
        .starts_with("[P2P-DEBUG] MessageNotification arrived: cid=4926344781773734389, peer_cid=2140228971562830034"));
    assert_eq!(
        e.location.as_deref(),
        Some("citadel-internal-service-connector/src/messenger/mod.rs:343")
    );
    let evs = parse("selenium-json", &sample("formats/selenium.jsonl"));
    assert_eq!(
        evs[4].location.as_deref(),
        Some("http://localhost:5173/src/lib/wasm-debug-bridge.ts:40:12")
    );
    assert_eq!(
        evs[4].message,
        "\"[WasmDebugBridge] WebSocket disconnected: WebSocket communication task ended\""
    );
}
