//! End to end: `diag report` (Markdown, HTML) and `diag check --format markdown` on the samples, read
//! back with a real Markdown parser (pulldown-cmark): the sections are there, the tables have their
//! columns, the seed's steps say the send passed and the receipt failed, and no log line can add
//! markup. A snapshot keeps the seed's whole report in view.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::path::Path;
use std::process::{Command, Output};

fn diag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("DIAG_FAIL_ON")
        .output()
        .expect("run diag")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a reader of the rendered document sees: headings by level, tables (header + rows, as text),
/// and whether any raw HTML got through.
#[derive(Debug, Default)]
struct Doc {
    headings: Vec<(u8, String)>,
    tables: Vec<Vec<Vec<String>>>,
    html: Vec<String>,
    code_blocks: Vec<String>,
}

fn parse(md: &str) -> Doc {
    let mut doc = Doc::default();
    let mut heading: Option<(u8, String)> = None;
    let mut table: Option<Vec<Vec<String>>> = None;
    let mut cell: Option<String> = None;
    let mut code: Option<String> = None;
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => {
                let n = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    HeadingLevel::H4 => 4,
                    HeadingLevel::H5 => 5,
                    HeadingLevel::H6 => 6,
                };
                heading = Some((n, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => doc.headings.extend(heading.take()),
            Event::Start(Tag::Table(_)) => table = Some(Vec::new()),
            Event::End(TagEnd::Table) => doc.tables.extend(table.take()),
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                if let Some(t) = table.as_mut() {
                    t.push(Vec::new());
                }
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                if let (Some(t), Some(c)) = (table.as_mut(), cell.take()) {
                    if let Some(row) = t.last_mut() {
                        row.push(c);
                    }
                }
            }
            Event::Start(Tag::CodeBlock(_)) => code = Some(String::new()),
            Event::End(TagEnd::CodeBlock) => doc.code_blocks.extend(code.take()),
            Event::Html(h) | Event::InlineHtml(h) => doc.html.push(h.to_string()),
            Event::Text(t) | Event::Code(t) => {
                for s in [
                    heading.as_mut().map(|h| &mut h.1),
                    cell.as_mut(),
                    code.as_mut(),
                ]
                .into_iter()
                .flatten()
                {
                    s.push_str(&t);
                }
            }
            _ => {}
        }
    }
    doc
}

const SECTIONS: [&str; 12] = [
    "Accounts Used",
    "Test Results",
    "Critical Findings",
    "Console Log Analysis",
    "Findings by Severity",
    "Root Cause Analysis",
    "Backend Logs Summary",
    "Test History Summary",
    "Recommendations",
    "Sources",
    "Files Referenced",
    "Overall Result: FAIL",
];

fn table_with<'a>(doc: &'a Doc, header: &[&str]) -> &'a Vec<Vec<String>> {
    doc.tables
        .iter()
        .find(|t| t.first().is_some_and(|h| h == header))
        .unwrap_or_else(|| panic!("no table with columns {header:?} in {:?}", doc.tables))
}

fn seed_markdown() -> String {
    let o = diag(&["report", "samples/seed"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    stdout(&o)
}

#[test]
fn the_seed_report_has_every_section_in_order() {
    let doc = parse(&seed_markdown());
    let h2: Vec<&str> = doc
        .headings
        .iter()
        .filter(|(l, _)| *l == 2)
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(h2, SECTIONS, "{:?}", doc.headings);
    assert_eq!(
        doc.headings.first().map(|h| h.1.as_str()),
        Some("diag report: FAIL")
    );
    assert!(
        doc.html.is_empty(),
        "raw HTML in the report: {:?}",
        doc.html
    );
}

#[test]
fn the_seed_test_results_say_the_send_passed_and_the_receipt_failed() {
    let doc = parse(&seed_markdown());
    let t = table_with(&doc, &["Test", "Status", "Notes"]);
    let status = |name: &str| -> String {
        t.iter()
            .find(|r| r.first().is_some_and(|c| c == name))
            .and_then(|r| r.get(1).cloned())
            .unwrap_or_else(|| panic!("no row {name:?} in {t:?}"))
    };
    assert_eq!(
        status("Message alice_1767144257 → bob_1767144257 (send)"),
        "PASS"
    );
    assert_eq!(
        status("Message alice_1767144257 → bob_1767144257 (receive)"),
        "FAIL"
    );
    assert_eq!(
        status("Message bob_1767144257 → alice_1767144257"),
        "NOT TESTED"
    );
    assert_eq!(
        status("Connection to the server (alice_1767144257)"),
        "PASS"
    );
    assert_eq!(status("Connection to the server (bob_1767144257)"), "PASS");
    assert_eq!(
        status("P2P connection (alice_1767144257 ↔ bob_1767144257)"),
        "PASS"
    );
    // The failed receipt names the finding and the incident's root.
    let receive = t
        .iter()
        .find(|r| r[0].ends_with("(receive)"))
        .expect("receive row");
    assert!(
        receive[2].contains("97d21b6a") && receive[2].contains("root cause F2"),
        "{receive:?}"
    );
}

#[test]
fn the_seed_report_fills_its_sections_from_the_analysis() {
    let md = seed_markdown();
    let doc = parse(&md);
    // Accounts: usernames, CIDs and tabs.
    assert!(
        md.contains("**alice\\_1767144257** (CID: 2140228971562830034) — tab `alice-tab0`"),
        "{md}"
    );
    assert!(md.contains("**bob\\_1767144257** (CID: 4926344781773734389) — tab `bob-tab1`"));
    assert!(md.contains("`ws://127.0.0.1:12345` (named by `alice-tab0`, `bob-tab1`)"));
    // Critical findings with evidence blocks: the ratchet gap and the panic with its payload.
    let blocks = doc.code_blocks.join("\n");
    assert!(blocks.contains("Attempted to get ratchet v9 for cid=4926344781773734389"));
    assert!(blocks.contains("called `Option::unwrap()` on a `None` value"));
    // The trace of the lost message: the sender's tab, the server's relay, in order.
    let trace = doc
        .code_blocks
        .iter()
        .find(|b| b.contains("[P2P-MSG] sink.send() SUCCEEDED"))
        .expect("trace block");
    let at = |s: &str| {
        trace
            .find(s)
            .unwrap_or_else(|| panic!("{s} not in {trace}"))
    };
    assert!(at("[P2P] Sending message 97d21b6a") < at("[P2P-MSG] sink.send() SUCCEEDED"));
    assert!(at("[P2P-MSG] sink.send() SUCCEEDED") < at("sent successfully in 14ms"));
    assert!(md.contains("Nothing in `bob-tab1` carries it"));
    // Severity table and sources table with their columns.
    let sev = table_with(&doc, &["Severity", "Finding", "Rule", "Events", "Issue"]);
    assert_eq!(sev.len() - 1, 15, "{sev:?}");
    let src = table_with(
        &doc,
        &[
            "Source",
            "File",
            "Format",
            "Events",
            "Unparsed",
            "Owner",
            "Placement",
            "Clock offset",
        ],
    );
    assert!(
        src.iter()
            .any(|r| r[0] == "bob-tab1" && r[7].starts_with("-3601.216 s")),
        "{src:?}"
    );
    // Root cause analysis: the primary issue, the chain, each rule's why and possible causes.
    assert!(doc
        .headings
        .iter()
        .any(|(_, h)| h == "I1: primary issue: Ratchet version outside the held range"));
    assert!(
        md.contains("1. `ratchet-version-gap`: Ratchet version outside the held range ← this run")
    );
    // Recommendations: one per rule (websocket-lost has two findings, one entry).
    assert_eq!(md.matches("(`websocket-lost`; F5, F6)").count(), 1);
    // Files referenced: the panic location and the toolset call site.
    assert!(md.contains("citadel_proto/src/proto/session.rs:2254:18`: panic location"));
    assert!(md.contains("citadel_crypt/src/toolset.rs:252`: call site"));
    // No history database: the section says so and how to give one.
    assert!(md.contains("No history database was given") && md.contains("`--db FILE`"));
}

#[test]
fn seed_report_snapshot() {
    let md = seed_markdown().replace(env!("CARGO_PKG_VERSION"), "VERSION");
    insta::assert_snapshot!("seed_report_markdown", md);
}

#[test]
fn check_writes_the_same_markdown_and_keeps_its_exit_code() {
    let o = diag(&["check", "samples/seed", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(stdout(&o), seed_markdown());
}

#[test]
fn a_healthy_run_says_what_the_evidence_does_not_support() {
    let o = diag(&["report", "samples/healthy", "--fail-on", "medium"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let md = stdout(&o);
    let doc = parse(&md);
    assert!(
        doc.headings
            .iter()
            .any(|(_, h)| h == "Overall Result: PASS"),
        "{md}"
    );
    assert!(md.contains("No message was lost in these logs"), "{md}");
    let h2 = doc.headings.iter().filter(|(l, _)| *l == 2).count();
    assert_eq!(
        h2,
        SECTIONS.len(),
        "every section is there, even when empty: {md}"
    );
}

/// Log text written to break a Markdown or HTML document: fences, table pipes, headings, tags.
const HOSTILE: &str = "2025-12-30T01:00:00.000000001Z  INFO citadel: a.rs:1: [Connect] SUCCESS: cid=1111111111111111111\n\
2025-12-30T01:00:01.000000001Z  INFO citadel: a.rs:1: GetSessions: Session 1111111111111111111 for user <img src=x onerror=alert(1)>|evil associated with connection x\n\
2025-12-30T01:00:02.000000001Z ERROR citadel: /x/lib.rs:89: Panic occurred: panicked at /x/s.rs:1:1:\n\
2025-12-30T01:00:02.000000002Z ``` </script><script>alert(2)</script> | # not a heading\n\
2025-12-30T01:00:03.000000001Z ERROR citadel: a.rs:2: ```\n";

#[test]
fn log_text_cannot_break_the_markdown_or_the_html() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("svc.log");
    std::fs::write(&log, HOSTILE).expect("write");
    let log = log.to_string_lossy().into_owned();
    let o = diag(&["report", &log]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let md = stdout(&o);
    let doc = parse(&md);
    assert!(
        doc.html.is_empty(),
        "raw HTML got through: {:?}\n{md}",
        doc.html
    );
    let h2 = doc.headings.iter().filter(|(l, _)| *l == 2).count();
    assert_eq!(
        h2,
        SECTIONS.len(),
        "a log line made or ate a heading: {:?}",
        doc.headings
    );
    // The title keeps the text, as text: no heading of its own, no tags, no broken table.
    assert!(
        doc.headings
            .iter()
            .all(|(_, h)| !h.starts_with("not a heading")),
        "{:?}",
        doc.headings
    );
    assert!(
        doc.headings
            .iter()
            .any(|(_, h)| h.contains("``` </script><script>alert(2)</script> | # not a heading")),
        "{:?}",
        doc.headings
    );
    let sev = table_with(&doc, &["Severity", "Finding", "Rule", "Events", "Issue"]);
    // A `|` in a title stays inside its cell (GFM drops whatever a stray pipe pushes past the last column).
    assert!(
        sev.iter().any(|r| r
            .get(4)
            .is_some_and(|c| c.ends_with("alert(2)</script> | # not a heading"))),
        "a pipe split a cell: {sev:?}"
    );
    // The panic's payload line is inside its evidence block, whole, fences and all.
    assert!(
        doc.code_blocks.iter().any(|b| b.contains("``` </script>")),
        "{md}"
    );

    let html = dir.path().join("r.html");
    let o = diag(&[
        "report",
        &log,
        "--format",
        "html",
        "-o",
        &html.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let page = std::fs::read_to_string(&html).expect("html written");
    assert!(
        !page.contains("<img"),
        "a tag from the log reached the page"
    );
    assert_eq!(
        page.matches("</script>").count(),
        2,
        "only the page's own scripts end"
    );
    assert!(!page.contains("<script src") && !page.contains("<link") && !page.contains("@import"));
}

#[test]
fn html_report_of_the_seed_is_one_small_self_contained_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("seed.html");
    let o = diag(&[
        "report",
        "samples/seed",
        "--format",
        "html",
        "-o",
        &out.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let page = std::fs::read_to_string(&out).expect("html written");
    assert!(page.len() <= 2 * 1024 * 1024, "{} bytes", page.len());
    assert!(page.starts_with("<!DOCTYPE html>"));
    for gone in ["<script src", "<link", "@import", "url(http"] {
        assert!(!page.contains(gone), "{gone} would need the network");
    }
    assert!(page.contains("\"mode\":\"full\""));
    assert!(page.contains("ratchet-version-gap"));
}

#[test]
fn html_of_a_large_input_stays_within_the_budget_and_keeps_the_evidence() {
    // (Past FULL_LIMIT records only the evidence and its context are embedded: see html.rs's tests.)
    large_input_budget()
}

fn large_input_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("big.log");
    let mut text = String::with_capacity(70 << 20);
    // Long records: embedding them whole would pass the budget several times over.
    let pad = "x".repeat(900);
    for i in 0..12_000u64 {
        let (m, s) = (i / 60_000 % 60, i / 1000 % 60);
        let ms = i % 1000;
        if i % 500 == 0 {
            text.push_str(&format!(
                "2025-12-30T01:{m:02}:{s:02}.{ms:03}000000Z ERROR citadel: a.rs:{i}: Attempted to get ratchet v{} for cid=4926344781773734389, but does not exist! len: 1. Oldest: 0. Newest: 0 {pad}\n",
                i % 9 + 1
            ));
        } else {
            text.push_str(&format!(
                "2025-12-30T01:{m:02}:{s:02}.{ms:03}000000Z  INFO citadel: a.rs:{i}: GetSessions: Found {i} total sessions in server_connection_map {pad}\n"
            ));
        }
    }
    text.push_str("2025-12-30T01:59:59.000000000Z ERROR citadel: /x/lib.rs:89: Panic occurred: panicked at /x/session.rs:2254:18:\n");
    std::fs::write(&log, &text).expect("write");
    let out = dir.path().join("big.html");
    let o = diag(&[
        "report",
        &log.to_string_lossy(),
        "--format",
        "html",
        "-o",
        &out.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let input = text.len();
    let size = std::fs::metadata(&out).expect("html written").len() as usize;
    eprintln!("large input: {input} bytes, 12001 records -> HTML {size} bytes");
    assert!(size <= 10 * 1024 * 1024, "{size} bytes");
    let page = std::fs::read_to_string(&out).expect("read");
    assert!(
        page.contains("session.rs:2254:18"),
        "the panic's evidence is embedded"
    );
    assert!(page.contains("\"density\""));
}

#[test]
fn report_output_file_errors_say_what_to_do() {
    let o = diag(&["report", "samples/seed", "-o", "/nonexistent-dir/x.md"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot write /nonexistent-dir/x.md") && err.contains("writable"),
        "{err}"
    );
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/seed")
        .is_dir());
}

#[test]
fn every_sample_gives_a_whole_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut dirs: Vec<String> = std::fs::read_dir(root.join("faults"))
        .expect("samples/faults")
        .filter_map(|e| e.ok())
        .map(|e| format!("samples/faults/{}", e.file_name().to_string_lossy()))
        .collect();
    dirs.sort();
    dirs.push("samples/healthy".into());
    assert!(dirs.len() > 5);
    for d in &dirs {
        let o = diag(&["report", d]);
        assert_eq!(o.status.code(), Some(0), "{d}: {o:?}");
        let md = stdout(&o);
        let doc = parse(&md);
        let h2: Vec<&str> = doc
            .headings
            .iter()
            .filter(|(l, _)| *l == 2)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(h2.len(), SECTIONS.len(), "{d}: {h2:?}");
        assert_eq!(h2[..11], SECTIONS[..11], "{d}");
        assert!(h2[11].starts_with("Overall Result: "), "{d}");
        assert!(doc.html.is_empty(), "{d}: raw HTML {:?}", doc.html);
    }
}
