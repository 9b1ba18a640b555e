//! Sample runs shared by unit tests: the seed's three sources and a multi-process fault's.

/// The seed failure: the service log and the two tabs, as `(label, text)`.
pub const SEED: [(&str, &str); 3] = [
    (
        "internal-service.log",
        include_str!("../samples/seed/internal-service.log"),
    ),
    (
        "alice-tab0.playwright.log",
        include_str!("../samples/seed/alice-tab0.playwright.log"),
    ),
    (
        "bob-tab1.devtools.log",
        include_str!("../samples/seed/bob-tab1.devtools.log"),
    ),
];

/// A multi-process fault (a peer killed mid-transfer): the server and two services.
pub const MULTI_PEER_KILLED: [(&str, &str); 3] = [
    (
        "citadel-server.log",
        include_str!("../samples/faults/multi-peer-killed-mid-transfer/citadel-server.log"),
    ),
    (
        "service-a.log",
        include_str!("../samples/faults/multi-peer-killed-mid-transfer/service-a.log"),
    ),
    (
        "service-b.log",
        include_str!("../samples/faults/multi-peer-killed-mid-transfer/service-b.log"),
    ),
];

/// A line of a compose log of two services (starts, continuation lines, blanks), or of a
/// Playwright MCP dump (open and closed records, weak starts, frames, blanks).
pub fn line(format: &str, shape: u8, n: u16) -> String {
    if format == "playwright-mcp" {
        return match shape % 6 {
            0 => format!("[LOG] open {n}"),
            1 => format!("[LOG] closed {n} @ http://x/a.js:{n}"),
            2 => format!("TypeError: boom {n}"),
            3 => format!("    at f (http://x/a.js:{n})"),
            4 => String::new(),
            _ => format!("[ERROR] bad {n} @ http://x/a.js:1"),
        };
    }
    let service = if shape & 8 == 0 {
        "alpha-1  | "
    } else {
        "beta-1   | "
    };
    let rest = match shape % 4 {
        0 => format!(" INFO citadel: src/a.rs:{n}: message {n}"),
        1 => format!("ERROR citadel: src/b.rs:{n}: failure {n}"),
        2 => format!("   at frame {n}"),
        _ => String::new(),
    };
    format!("{service}{rest}")
}
