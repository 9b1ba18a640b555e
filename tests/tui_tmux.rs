//! End to end: the real binary in a real terminal (tmux, 120x40). Opens the seed, checks the timeline
//! is drawn, `]` then Enter shows a finding's or a record's detail, and `q` quits and ends the session;
//! and what lnav users type: `:filter-out`, a search with its hit count, a mistyped command, `:q`.
//! Skipped (with a message) when tmux is not installed; CI installs the `tmux` package.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmux server of our own (its own socket), killed when the test ends however it ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "diag"]).stdout)
            .into_owned()
    }

    fn alive(&self) -> bool {
        self.run(&["has-session", "-t", "diag"]).status.success()
    }

    /// Wait until the screen satisfies `test`; the last screen either way.
    fn wait_for(&self, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if test(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "diag"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    /// Wait until the session has ended.
    fn wait_gone(&self, after: &str) {
        let start = Instant::now();
        while self.alive() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{after} did not end the session:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `diag tui samples/seed` in a fresh tmux server at 120x40; `None` when tmux is not installed.
fn start() -> Option<Tmux> {
    let bin = env!("CARGO_BIN_EXE_diag");
    start_cmd(
        &format!("{bin} tui samples/seed"),
        "the loaded timeline",
        |s| s.contains("Timeline") && s.contains("events · 3 sources"),
    )
}

/// A shell command in a fresh tmux server at 120x40 (in the crate root), once its screen passes
/// `ready`; `None` when tmux is not installed.
fn start_cmd(cmd: &str, what: &str, ready: impl Fn(&str) -> bool) -> Option<Tmux> {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("tmux is not installed; skipping the end-to-end TUI test (apt-get install tmux)");
        return None;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    assert!(Path::new(root).join("samples/seed").is_dir());
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let t = Tmux {
        socket: format!(
            "diag-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ),
    };
    let out = t.run(&[
        "new-session",
        "-d",
        "-s",
        "diag",
        "-x",
        "120",
        "-y",
        "40",
        "-c",
        root,
        cmd,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");
    t.wait_for(what, ready);
    Some(t)
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn tui_in_tmux_shows_the_timeline_a_finding_and_quits() {
    let Some(t) = start() else { return };
    // Rows and key bar, waited for as one (a capture can land mid-frame).
    t.wait_for("rows of every source and the key bar", |s| {
        s.contains("internal-service")
            && (s.contains("alice-tab0") || s.contains("bob-tab1"))
            && s.contains("? help")
            && s.contains("q quit")
    });

    t.keys(&["-l", "]"]);
    t.keys(&["Enter"]);
    // Wait for the whole pane, not its title alone: a capture can land mid-frame, between the
    // title and the body of one redraw.
    t.wait_for("a detail pane with its body", |s| {
        s.contains("Detail")
            && (s.contains("── Record ──") || s.contains("── Rule ──") || s.contains("── Chain"))
    });

    t.keys(&["-l", "q"]);
    t.wait_gone("q");
}

#[test]
fn tui_in_tmux_takes_lnav_commands() {
    let Some(t) = start() else { return };
    t.keys(&["-l", ":filter-out WebSocket"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("the filter-out in the status line", |s| {
        s.contains("-text=/WebSocket/")
    });
    assert!(!s.contains("WebSocket communication task ended"), "{s}");

    t.keys(&["-l", "/panicked"]);
    t.keys(&["Enter"]);
    t.wait_for("the hit count", |s| s.contains("/panicked/ 1/"));

    t.keys(&["-l", ":fliter-in x"]);
    t.keys(&["Enter"]);
    t.wait_for("the nearest command", |s| {
        s.contains("did you mean :filter-in?")
    });
    t.keys(&["Escape"]);
    // Wait for Esc to land alone (Esc followed at once by `:` would read as Alt-:).
    t.wait_for("the prompt to close", |s| !s.contains("did you mean"));
    t.keys(&["-l", ":q"]);
    t.keys(&["Enter"]);
    t.wait_gone(":q");
}

/// `docker compose logs -f | diag tui -`: standard input is followed from the start, and a line that
/// arrives after the first screen shows up without a key.
#[test]
fn tui_in_tmux_follows_standard_input_as_it_grows() {
    let bin = env!("CARGO_BIN_EXE_diag");
    let late = "internal-service-1  | 2025-12-30T01:45:00.000000000Z  INFO citadel: src/late.rs:7: a late line from the pipe";
    let cmd = format!(
        "sh -c '(cat samples/seed/internal-service.log; sleep 3; echo \"{late}\"; sleep 600) | {bin} tui -'"
    );
    let Some(t) = start_cmd(&cmd, "the timeline of standard input", |s| {
        s.contains("Timeline") && s.contains("events · 1 sources")
    }) else {
        return;
    };
    assert!(t.screen().contains("FOLLOW"), "{}", t.screen());
    let start = Instant::now();
    loop {
        t.keys(&["-l", "G"]);
        std::thread::sleep(Duration::from_millis(300));
        let s = t.screen();
        if s.contains("a late line from the pipe") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the late line never showed; screen:\n{s}"
        );
    }
    // The writer is still open (as `logs -f` would be): the TUI quits, the pipeline lives on.
    t.keys(&["-l", "q"]);
    t.wait_for("the TUI to quit", |s| !s.contains("Timeline"));
}

/// `diag tui -` typed at a terminal, with nothing piped in: the keys come from that terminal, so it is
/// refused with what to do instead, not read as logs.
#[test]
fn tui_in_tmux_refuses_the_terminal_as_standard_input() {
    let bin = env!("CARGO_BIN_EXE_diag");
    let cmd = format!("sh -c '{bin} tui -; echo EXIT=$?; sleep 600'");
    let Some(t) = start_cmd(&cmd, "the refusal", |s| s.contains("EXIT=")) else {
        return;
    };
    let s = t.screen();
    assert!(s.contains("standard input is the terminal"), "{s}");
    assert!(s.contains("EXIT=2"), "{s}");
}

/// `F` on a growing file: what the file gains is appended to the screen (not the whole read again)
/// and the rules run again over it: a panic written after the first screen becomes a finding.
#[test]
fn tui_in_tmux_follows_a_growing_file_and_judges_what_it_gains() {
    let bin = env!("CARGO_BIN_EXE_diag");
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("internal-service.log");
    let site = "INFO citadel: citadel-internal-service/src/kernel/mod.rs:40:";
    let head = format!(
        "2026-12-06T10:00:00.000000Z {site} Server listening on 127.0.0.1:12345\n\
         2026-12-06T10:00:01.000000Z {site} Session started for cid=1234567890123456789\n"
    );
    std::fs::write(&log, head).expect("write");
    let cmd = format!("{bin} tui {}", log.display());
    let Some(t) = start_cmd(&cmd, "the timeline of the file", |s| {
        s.contains("Timeline") && s.contains("Session started")
    }) else {
        return;
    };
    let first = t.screen();
    assert!(!first.contains("FOLLOW"), "{first}");
    assert!(first.contains("No findings"), "{first}");
    t.keys(&["-l", "F"]);
    t.wait_for("follow on", |s| s.contains("FOLLOW"));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open");
    use std::io::Write;
    f.write_all(
        b"thread 'tokio-runtime-worker' panicked at citadel_proto/src/proto/session.rs:10:5:\n\
          called `Option::unwrap()` on a `None` value a late panic\n",
    )
    .expect("append");
    drop(f);
    let s = t.wait_for("the appended panic and its finding", |s| {
        s.contains("a late panic") && !s.contains("rules…") && !s.contains("No findings")
    });
    assert!(s.contains("FOLLOW"), "{s}");
    t.keys(&["-l", "q"]);
    t.wait_gone("q");
}
