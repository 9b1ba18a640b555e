//! End to end in a real browser: `diag report --format html` on the seed, loaded from a file:// URL by
//! headless Chromium (the Debian package `chromium`, which `.ci/run` installs). After the page's
//! script has run, the DOM must hold the three lanes, finding markers and the incident tree's root,
//! and a 1280×800 screenshot is taken (kept under the target directory to look at).
//!
//! Without a browser the test says so on stderr and stdout and skips; with `CI=true` a missing
//! browser is a failure, so CI cannot pass without having run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn find_browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DIAG_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Headless Chromium with a profile of its own (tests run in parallel), no sandbox (CI runs as root).
fn chromium(browser: &Path, profile: &Path, args: &[&str]) -> Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,800",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

fn count(dom: &str, needle: &str) -> usize {
    dom.matches(needle).count()
}

#[test]
fn seed_html_in_a_real_browser_shows_lanes_findings_and_the_root() {
    let Some(browser) = find_browser() else {
        let why = "no Chromium found (looked for chromium, chromium-browser, google-chrome on PATH and $DIAG_CHROMIUM); \
                   install it with `apt-get install -y chromium`";
        if in_ci() {
            panic!("CI=true but the HTML browser test cannot run: {why}");
        }
        eprintln!("SKIPPED seed_html_in_a_real_browser: {why}");
        println!("SKIPPED seed_html_in_a_real_browser: {why}");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("seed.html");
    let o = Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(["report", "samples/seed", "--format", "html", "-o"])
        .arg(&html)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run diag");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let url = format!("file://{}", html.display());

    let o = chromium(&browser, &dir.path().join("p1"), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not finish: status {:?}, stderr {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    // One lane per source, each with its time quality shown.
    assert_eq!(count(&dom, "class=\"lane\""), 3, "lanes");
    for lane in ["alice-tab0", "bob-tab1", "internal-service"] {
        assert!(
            dom.contains(&format!("<div class=\"name\">{lane}</div>")),
            "lane {lane}"
        );
    }
    for q in ["q exact", "q inferred", "q time-of-day"] {
        assert!(dom.contains(q), "time quality {q} shown");
    }
    // Every finding is marked on a lane; the root is marked as such, in the lanes and in the tree.
    assert_eq!(
        count(&dom, "class=\"fmark finding-marker"),
        15,
        "finding markers"
    );
    assert!(
        dom.contains("data-finding=\"F2\" title=\"F2 critical: ratchet v"),
        "root marker"
    );
    assert!(dom.contains("fmark finding-marker critical root"));
    assert!(dom.contains("id=\"incident-tree\""));
    assert!(
        dom.contains("<li class=\"root\" data-finding=\"F2\">"),
        "tree root"
    );
    // Records are drawn and the root's evidence is highlighted and listed in the detail pane.
    assert!(count(&dom, "class=\"mark ") >= 376, "one mark per record");
    assert!(count(&dom, " hl\"") >= 2, "evidence highlighted");
    assert!(dom.contains("Attempted to get ratchet v9 for cid=4926344781773734389"));
    // The filters and the search are there.
    for id in [
        "id=\"search\"",
        "id=\"f-cid\"",
        "id=\"f-user\"",
        "id=\"f-level\"",
        "id=\"f-sources\"",
    ] {
        assert!(dom.contains(id), "{id}");
    }

    // Filters, search and a record's detail, set through the page's URL fragment: the count of shown
    // records must match what `diag timeline` keeps with the same source and text filter.
    let o = chromium(
        &browser,
        &dir.path().join("p3"),
        &[
            "--dump-dom",
            &format!("{url}#q=ratchet&src=internal-service&ev=0"),
        ],
    );
    let dom = String::from_utf8_lossy(&o.stdout);
    let expected = Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(["timeline", "samples/seed", "--source", "internal-service"])
        .args(["--grep", "(?i)ratchet", "--format", "ndjson"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run diag timeline");
    let n = String::from_utf8_lossy(&expected.stdout).lines().count();
    assert!(n >= 2, "the seed has the two ratchet lines");
    assert!(
        dom.contains(&format!("{n} of 376 embedded records shown")),
        "search + source filter: expected {n} records shown"
    );
    assert_eq!(
        count(&dom, "class=\"lane hidden\""),
        2,
        "two lanes filtered out"
    );
    assert!(dom.contains("<h2>Record</h2>"), "a record's detail");
    assert!(dom.contains("<dd>internal-service:1 (citadel-tracing)</dd>"));

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seed-report-1280x800.png");
    let _ = std::fs::remove_file(&shot);
    let o = chromium(
        &browser,
        &dir.path().join("p2"),
        &[&format!("--screenshot={}", shot.display()), &url],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): status {:?}, stderr {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert_eq!(png.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]), "a PNG");
    // IHDR: width and height, big-endian, at bytes 16..24.
    let dim = |at: usize| {
        png.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    assert_eq!((dim(16), dim(20)), (Some(1280), Some(800)));
    // A blank page compresses to a few kB; the drawn timeline does not.
    assert!(
        png.len() > 40_000,
        "screenshot looks empty: {} bytes",
        png.len()
    );
    eprintln!("screenshot of the seed report: {}", shot.display());
}
