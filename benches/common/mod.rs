//! Deterministic generators of realistic diag inputs, shared by the benches, the differential tests and the generator `benches/gen`.
//!
//! One simulation of a Citadel deployment renders into four channels:
//!
//! - `service`: the internal service (and the relay `server-1`) under `docker compose logs -t`:
//!   `internal-service-1  | <RFC 3339 ns> ` then tracing's ANSI-coloured `LEVEL target: file.rs:N: text`;
//!   GetSessions polling, `[ListAllPeers]`/`[PeerConnect]` with request UUIDs, `[P2P-MSG]`,
//!   `[CBD-RKT-*]` ratchet chatter, errors with multi-line `Stack backtrace:` blocks, and now and then a
//!   ratchet gap, a two-line panic and a restart;
//! - `json`: the same service records as tracing-subscriber JSON lines;
//! - `alice`: Alice's tab as Playwright-MCP `browser_console_messages` (`[LOG] text @ url:line`);
//! - `bob`: Bob's tab as a Chrome DevTools "Save as" dump with timestamps (`HH:MM:SS.mmm anchor text`,
//!   stack tables under warnings), his clock UTC+01:00 and 1.2 s ahead.
//!
//! CIDs, usernames, connection and request UUIDs come from a pool of clients and from the PRNG, so entity
//! extraction and the shared-UUID anchors do real work. Same seed, same bytes: no dependency, no clock.
#![allow(dead_code)]

use std::fmt::Write as _;

/// xorshift64* seeded through splitmix64.
pub struct Rng(u64);

impl Rng {
    /// A generator from any seed (0 included).
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// A version-4 UUID, lowercase.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    /// A CID: a u64 of 18 to 20 decimal digits.
    pub fn cid(&mut self) -> u64 {
        100_000_000_000_000_000 + self.below(u64::MAX - 100_000_000_000_000_000)
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(n);
        s
    }
}

/// The formats the generator writes, by diag's format names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Service log: compose prefix, collector time, ANSI tracing fmt.
    CitadelTracing,
    /// Playwright-MCP console messages.
    PlaywrightMcp,
    /// Chrome DevTools console with timestamps.
    ChromeDevtools,
    /// tracing-subscriber JSON.
    TracingJson,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 4] = [
        Kind::CitadelTracing,
        Kind::PlaywrightMcp,
        Kind::ChromeDevtools,
        Kind::TracingJson,
    ];

    /// diag's name of the format.
    pub fn format(self) -> &'static str {
        match self {
            Kind::CitadelTracing => "citadel-tracing",
            Kind::PlaywrightMcp => "playwright-mcp",
            Kind::ChromeDevtools => "chrome-devtools",
            Kind::TracingJson => "tracing-json",
        }
    }

    /// File name used on disk.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::CitadelTracing => "internal-service.log",
            Kind::PlaywrightMcp => "alice-tab0.playwright.log",
            Kind::ChromeDevtools => "bob-tab1.devtools.log",
            Kind::TracingJson => "internal-service.jsonl",
        }
    }

    /// A kind by its format name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.format() == s)
    }

    fn channel(self) -> usize {
        match self {
            Kind::CitadelTracing => SERVICE,
            Kind::PlaywrightMcp => ALICE,
            Kind::ChromeDevtools => BOB,
            Kind::TracingJson => JSON,
        }
    }
}

const SERVICE: usize = 0;
const ALICE: usize = 1;
const BOB: usize = 2;
const JSON: usize = 3;

/// 2025-12-30T01:42:52Z, the seed incident's first line.
const START_S: i64 = 1_767_058_972;
const MS: i64 = 1_000_000;
const SEC: i64 = 1_000_000_000;
/// Bob's DevTools clock: local time UTC+01:00, running 1.2 s ahead of the service.
const BOB_SKEW: i64 = 3600 * SEC + 1200 * MS;

const INTERNAL: &str = "internal-service-1";
const SERVER: &str = "server-1";
const PROTO: &str = "/usr/local/cargo/git/checkouts/citadel-protocol-5ed557508e8a0da8/7a040b2";
const KERNEL: &str = "citadel-internal-service/citadel-internal-service/src/kernel";
const WASM_JS: &str =
    "node_modules/citadel-internal-service-wasm-client/citadel_internal_service_wasm_client.js";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lvl {
    Debug,
    Info,
    Warn,
    Error,
}

impl Lvl {
    fn word(self) -> &'static str {
        match self {
            Lvl::Debug => "DEBUG",
            Lvl::Info => "INFO",
            Lvl::Warn => "WARN",
            Lvl::Error => "ERROR",
        }
    }
    /// tracing's `Full` format: right-aligned in 5 columns, coloured.
    fn ansi(self) -> &'static str {
        match self {
            Lvl::Debug => "\x1b[34mDEBUG\x1b[0m",
            Lvl::Info => "\x1b[32m INFO\x1b[0m",
            Lvl::Warn => "\x1b[33m WARN\x1b[0m",
            Lvl::Error => "\x1b[31mERROR\x1b[0m",
        }
    }
    /// Playwright's console type.
    fn console(self) -> &'static str {
        match self {
            Lvl::Debug => "DEBUG",
            Lvl::Info => "LOG",
            Lvl::Warn => "WARNING",
            Lvl::Error => "ERROR",
        }
    }
}

struct User {
    cid: u64,
    name: String,
    conn: String,
}

/// Alice's and Bob's console source locations: (path under the dev server, 0-based line).
#[derive(Clone, Copy)]
struct Src(&'static str, u32);

const BRIDGE: Src = Src("src/lib/p2p/wasm-peer-bridge.ts", 48);
const INIT: Src = Src("src/lib/initialization.ts", 202);
const ROUTER: Src = Src("src/lib/multi-instance/instance-inbound-router.ts", 95);
const CONN_MGR: Src = Src("src/lib/connection-manager.ts", 290);
const AUTO_ATTEMPT: Src = Src("src/lib/p2p-auto-connect-service.ts", 132);
const AUTO_OK: Src = Src("src/lib/p2p-auto-connect-service.ts", 170);
const AUTO_FAIL: Src = Src("src/lib/p2p-auto-connect-service.ts", 213);
const SENDER: Src = Src("src/lib/p2p/message-sender.ts", 116);
const SENDER_OK: Src = Src("src/lib/p2p/message-sender.ts", 140);
const CHAT: Src = Src("src/components/P2PChat.tsx", 155);
const DEBUG_BRIDGE: Src = Src("src/lib/wasm-debug-bridge.ts", 40);
const WASM: Src = Src(WASM_JS, 1022);
const WASM_ERR: Src = Src(WASM_JS, 1097);
const PEER_LIST: Src = Src("src/lib/p2p/peer-list-store.ts", 83);
const CLIENT: Src = Src("src/lib/InternalServiceWasmClient.ts", 210);
const ROUTER_DOM: Src = Src(
    "node_modules/.vite/deps/react-router-dom.js?v=4b1c2d3e",
    4392,
);

/// The state of the simulated deployment and the text rendered so far, per channel.
pub struct Sim {
    rng: Rng,
    /// UTC nanoseconds since the Unix epoch.
    now: i64,
    users: Vec<User>,
    on: [bool; 4],
    out: [String; 4],
    calls: [u64; 2],
    /// While the agent is dead: when compose restarts it, when the tabs reconnect, retry attempt.
    outage: Option<Outage>,
    lines: [u64; 4],
}

struct Outage {
    restart_at: i64,
    reconnect_at: i64,
    attempt: u32,
    next_retry: i64,
}

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `2025-12-30T01:43:41.021026772Z` with `digits` fractional digits.
fn rfc3339(out: &mut String, ns: i64, digits: u32) {
    let secs = ns.div_euclid(SEC);
    let frac = ns.rem_euclid(SEC);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:0w$}Z",
        tod / 3600,
        tod / 60 % 60,
        tod % 60,
        frac / 10i64.pow(9 - digits),
        w = digits as usize
    );
}

/// `HH:MM:SS.mmm` of a nanosecond instant.
fn time_of_day(out: &mut String, ns: i64) {
    let ms = ns.div_euclid(MS).rem_euclid(86_400_000);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `21402289...`, as the tabs print a CID.
fn short(cid: u64) -> String {
    format!("{}...", &cid.to_string()[..8])
}

impl Sim {
    /// A simulation rendering the given channels (`service`, `alice`, `bob`, `json`).
    fn with(seed: u64, on: [bool; 4]) -> Sim {
        let mut rng = Rng::new(seed);
        let mut users = Vec::new();
        for base in ["alice", "bob"] {
            users.push(User {
                cid: rng.cid(),
                name: format!("{base}_1767144257"),
                conn: rng.uuid(),
            });
        }
        // Other clients of the same service, polled alongside.
        for k in 0..38u64 {
            users.push(User {
                cid: rng.cid(),
                name: format!("p2ptest{}_{}", k + 1, 1_769_211_951 + k * 37),
                conn: rng.uuid(),
            });
        }
        let mut s = Sim {
            rng,
            now: START_S * SEC + 301_069_856,
            users,
            on,
            out: Default::default(),
            calls: [0, 0],
            outage: None,
            lines: [0; 4],
        };
        if on[ALICE] {
            s.out[ALICE].push_str("Total messages: 48213 (Errors: 1520, Warnings: 377)\n\n");
            s.lines[ALICE] += 2;
        }
        s.startup();
        for u in 2..s.users.len() {
            s.connect(u);
        }
        s.tabs_connect();
        s
    }

    /// A simulation rendering one kind only.
    pub fn single(kind: Kind, seed: u64) -> Sim {
        let mut on = [false; 4];
        on[kind.channel()] = true;
        Sim::with(seed, on)
    }

    /// A simulation rendering the mixed corpus: service log, Alice's and Bob's tabs.
    pub fn mixed(seed: u64) -> Sim {
        Sim::with(seed, [true, true, true, false])
    }

    /// Text rendered so far for `kind`.
    pub fn text(&self, kind: Kind) -> &str {
        &self.out[kind.channel()]
    }

    /// Bytes rendered so far for `kind` since the last `take`.
    pub fn len(&self, kind: Kind) -> usize {
        self.out[kind.channel()].len()
    }

    /// Lines rendered for `kind` in all.
    pub fn lines(&self, kind: Kind) -> u64 {
        self.lines[kind.channel()]
    }

    /// Take the text rendered so far for `kind` (for streaming to disk).
    pub fn take(&mut self, kind: Kind) -> String {
        std::mem::take(&mut self.out[kind.channel()])
    }

    fn tick(&mut self, lo_ms: u64, hi_ms: u64) {
        self.now += (self.rng.range(lo_ms * 1000, hi_ms * 1000) as i64) * 1000;
    }

    fn micro(&mut self) {
        self.now += self.rng.range(40_000, 2_000_000) as i64;
    }

    // ---- rendering ----

    /// One service record: a first line with level, target and location, then plain continuation lines.
    #[allow(clippy::too_many_arguments)]
    fn svc(
        &mut self,
        container: &str,
        lvl: Lvl,
        target: &str,
        file: &str,
        line: u32,
        msg: &str,
        cont: &[String],
    ) {
        self.micro();
        if self.on[SERVICE] {
            let o = &mut self.out[SERVICE];
            let _ = write!(o, "{container:<20}| ");
            rfc3339(o, self.now, 9);
            let _ = writeln!(
                o,
                " {} \x1b[2m{target}\x1b[0m\x1b[2m:\x1b[0m \x1b[2m{file}\x1b[0m\x1b[2m:\x1b[0m\x1b[2m{line}:\x1b[0m {msg}",
                lvl.ansi()
            );
            let mut t = self.now;
            for c in cont {
                t += 1_700;
                let _ = write!(o, "{container:<20}| ");
                rfc3339(o, t, 9);
                o.push(' ');
                o.push_str(c);
                o.push('\n');
            }
            self.lines[SERVICE] += 1 + cont.len() as u64;
        }
        if self.on[JSON] {
            let o = &mut self.out[JSON];
            o.push_str("{\"timestamp\":\"");
            rfc3339(o, self.now, 6);
            let _ = write!(
                o,
                "\",\"level\":\"{}\",\"fields\":{{\"message\":",
                lvl.word()
            );
            if cont.is_empty() {
                json_str(o, msg);
            } else {
                let mut full = msg.to_string();
                for c in cont {
                    full.push('\n');
                    full.push_str(c);
                }
                json_str(o, &full);
            }
            o.push_str("},\"target\":");
            json_str(o, target);
            o.push_str(",\"filename\":");
            json_str(o, file);
            let _ = writeln!(o, ",\"line_number\":{line}}}");
            self.lines[JSON] += 1;
        }
    }

    fn kernel(&mut self, lvl: Lvl, target: &str, rel: &str, line: u32, msg: &str) {
        let file = format!("{KERNEL}/{rel}");
        self.svc(INTERNAL, lvl, target, &file, line, msg, &[]);
    }

    fn proto(&mut self, container: &str, lvl: Lvl, rel: &str, line: u32, msg: &str) {
        let file = format!("{PROTO}/{rel}");
        self.svc(container, lvl, "citadel", &file, line, msg, &[]);
    }

    /// A console message in Alice's tab (Playwright) and/or Bob's (DevTools); `stack` is DevTools' table.
    fn tab(&mut self, who: usize, lvl: Lvl, src: Src, text: &str, stack: &[&str]) {
        let Src(path, line) = src;
        if who == ALICE && self.on[ALICE] {
            let o = &mut self.out[ALICE];
            let _ = writeln!(
                o,
                "[{}] {text} @ http://localhost:5173/{path}:{line}",
                lvl.console()
            );
            self.lines[ALICE] += 1 + text.matches('\n').count() as u64;
        }
        self.micro();
        if who == BOB && self.on[BOB] {
            // Bob's tab sees things about 15 ms after the service logs them.
            let t = self.now + BOB_SKEW + 15 * MS;
            let o = &mut self.out[BOB];
            time_of_day(o, t);
            let file = path.rsplit('/').next().unwrap_or(path);
            let _ = writeln!(o, " {file}:{} {text}", line + 1);
            for f in stack {
                o.push_str(f);
                o.push('\n');
            }
            self.lines[BOB] += 1 + text.matches('\n').count() as u64 + stack.len() as u64;
        }
    }

    fn both(&mut self, lvl: Lvl, src: Src, text: &str, stack: &[&str]) {
        self.tab(ALICE, lvl, src, text, stack);
        self.tab(BOB, lvl, src, text, stack);
    }

    // ---- scenes ----

    fn startup(&mut self) {
        self.svc(
            INTERNAL,
            Lvl::Warn,
            "citadel",
            "citadel-workspace-internal-service/src/main.rs",
            58,
            "⚠️  SECURITY WARNING: TLS certificate verification is DISABLED via --dangerous flag. Never use in production!",
            &[],
        );
        let fs = format!(
            "Successfully established connection to backend Filesystem(\"/root/.citadel/{}{}\")...",
            self.rng.cid(),
            self.rng.cid()
        );
        self.proto(
            INTERNAL,
            Lvl::Info,
            "citadel_user/src/account_manager.rs",
            181,
            &fs,
        );
        self.proto(
            INTERNAL,
            Lvl::Info,
            "citadel_proto/src/proto/node.rs",
            130,
            "Citadel client established",
        );
        self.proto(
            INTERNAL,
            Lvl::Error,
            "citadel_wire/src/standard/nat_identification.rs",
            509,
            "\x1b[3merror\x1b[0m\x1b[2m=\x1b[0mfailed to lookup address information: Name or service not known",
        );
        self.proto(
            INTERNAL,
            Lvl::Warn,
            "citadel_wire/src/standard/nat_identification.rs",
            156,
            "Unable to identify NAT type (will assume offline): HolePunch(\"failed to lookup address information: Name or service not known\")",
        );
    }

    fn connect(&mut self, u: usize) {
        let cid = self.users[u].cid;
        self.kernel(
            Lvl::Info,
            "citadel",
            "requests/connect.rs",
            149,
            &format!("[Connect] SUCCESS: cid={cid}"),
        );
    }

    fn tabs_connect(&mut self) {
        for who in [ALICE, BOB] {
            let u = who - ALICE;
            let (name, cid) = (self.users[u].name.clone(), self.users[u].cid);
            self.users[u].conn = self.rng.uuid();
            let conn = self.users[u].conn.clone();
            self.tab(
                who,
                Lvl::Debug,
                Src("@vite/client", 788),
                "[vite] connecting...",
                &[],
            );
            self.tab(
                who,
                Lvl::Debug,
                Src("@vite/client", 911),
                "[vite] connected.",
                &[],
            );
            self.tab(
                who,
                Lvl::Warn,
                ROUTER_DOM,
                "⚠️ React Router Future Flag Warning: React Router will begin wrapping state updates in `React.startTransition` in v7. You can use the `v7_startTransition` future flag to opt-in early. For more information, see https://reactrouter.com/v6/upgrading/future#v7_starttransition.",
                &[
                    "warnOnce @ react-router-dom.js?v=4b1c2d3e:4393",
                    "logV6DeprecationWarnings @ react-router-dom.js?v=4b1c2d3e:4396",
                    "(anonymous) @ react-router-dom.js?v=4b1c2d3e:5268",
                    "commitHookEffectListMount @ chunk-PJEEZAML.js?v=4b1c2d3e:16915",
                ],
            );
            let inst = format!("inst_{}", self.rng.hex(8));
            self.tab(
                who,
                Lvl::Info,
                Src("src/lib/websocket-service.ts", 141),
                "[websocket] Leader election complete. This tab is LEADER",
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                Src("src/lib/connection-manager.ts", 87),
                &format!("ConnectionManager: Leader changed - isLeader: true, leaderId: {inst}"),
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                WASM,
                "Initializing WASM client with URL: ws://127.0.0.1:12345",
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                WASM,
                "WebSocket connected successfully",
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                WASM,
                "WASM client initialized successfully",
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                CLIENT,
                &format!("InternalServiceWasmClient: Received message: {{\"ServiceConnectionAccepted\":{{\"cid\":0,\"request_id\":\"{conn}\"}}}}"),
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                Src("src/lib/InternalServiceWasmClient.ts", 223),
                "Service connection accepted",
                &[],
            );
            self.connect(u);
            self.tab(
                who,
                Lvl::Info,
                Src("src/lib/connection-manager.ts", 317),
                &format!("ConnectionManager: Storing session for {name}"),
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                WASM,
                &format!("Opening messenger handle for CID: {cid}"),
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                WASM,
                &format!("Messenger handle opened for CID: {cid}"),
                &[],
            );
        }
    }

    /// One step of the simulation: 150 to 450 ms of the deployment's life.
    pub fn step(&mut self) {
        self.tick(150, 450);
        if self.outage.is_some() {
            self.outage_step();
            return;
        }
        match self.rng.below(1000) {
            0..=539 => self.poll(),
            540..=639 => self.list_peers(),
            640..=749 => self.ratchet_chatter(),
            750..=829 => self.p2p_message(),
            830..=859 => self.peer_connect(),
            860..=929 => self.service_misc(),
            930..=979 => self.tab_noise(),
            980..=997 => self.error_with_backtrace(),
            _ => {
                if self.rng.one_in(3) {
                    self.crash();
                } else {
                    self.poll();
                }
            }
        }
    }

    fn ilm_trace(&mut self, who: usize, op: &str) {
        let inst = "inst_r4t8w1zc";
        self.tab(
            who,
            Lvl::Info,
            INIT,
            &format!("[ILM-TRACE] _sendRequest: isLeader=true, leaderId={inst}, instanceId={inst}, msgType={op}"),
            &[],
        );
    }

    fn routed(&mut self, who: usize, op: &str, uuid: &str) {
        self.tab(
            who,
            Lvl::Info,
            ROUTER,
            &format!("[InstanceInboundRouter] [ILM-Router] Routing {op} by request_id {uuid} -> inst_r4t8w1zc"),
            &[],
        );
    }

    /// GetSessions polling: the service lists a few sessions, both tabs poll their peers.
    fn poll(&mut self) {
        let k = self.rng.range(1, 4) as usize;
        let total = self.users.len();
        self.kernel(
            Lvl::Info,
            "citadel",
            "requests/get_sessions.rs",
            26,
            &format!("GetSessions: Found {total} total sessions in server_connection_map"),
        );
        for _ in 0..k {
            let i = self.rng.below(self.users.len() as u64) as usize;
            let msg = format!(
                "GetSessions: Session {} for user {} associated with connection {}",
                self.users[i].cid, self.users[i].name, self.users[i].conn
            );
            self.kernel(Lvl::Info, "citadel", "requests/get_sessions.rs", 32, &msg);
        }
        let (a, b) = (self.users[0].cid, self.users[1].cid);
        for (who, me, peer) in [(ALICE, a, b), (BOB, b, a)] {
            if self.rng.one_in(3) {
                continue;
            }
            self.calls[who - ALICE] += 1;
            let n = self.calls[who - ALICE];
            let peers = if who == BOB {
                format!("['{}']", short(peer))
            } else {
                format!("[{}]", short(peer))
            };
            self.tab(
                who,
                Lvl::Info,
                BRIDGE,
                &format!(
                    "[P2P][WasmPeerBridge] CALL #{n} getPeersForSession({}): 1 peers {peers}",
                    short(me)
                ),
                &[],
            );
        }
        if self.rng.one_in(4) {
            // Bob's tab asks for sessions; the response's request id is tab-only.
            self.ilm_trace(BOB, "GetSessions");
            let u = self.rng.uuid();
            self.routed(BOB, "GetSessionsResponse", &u);
        }
    }

    /// A tab lists its peers: the same request UUID on both sides (a shared-uuid anchor).
    fn list_peers(&mut self) {
        let who = if self.rng.one_in(2) { ALICE } else { BOB };
        let cid = self.users[who - ALICE].cid;
        let req = self.rng.uuid();
        let t = "citadel_internal_service::kernel::requests::peer::list_all";
        self.ilm_trace(who, "ListAllPeers");
        self.kernel(
            Lvl::Info,
            t,
            "requests/peer/list_all.rs",
            22,
            &format!("[ListAllPeers] Handling request for cid={cid}, request_id={req}"),
        );
        self.kernel(
            Lvl::Info,
            t,
            "requests/peer/list_all.rs",
            25,
            &format!("[ListAllPeers] Calling get_local_group_peers for cid={cid}"),
        );
        let n = self.rng.range(1, 6);
        self.kernel(
            Lvl::Info,
            t,
            "requests/peer/list_all.rs",
            50,
            &format!("[ListAllPeers] SUCCESS: Found {n} peers for cid={cid}"),
        );
        self.routed(who, "ListAllPeersResponse", &req);
    }

    /// The relay's rekey chatter for some client.
    fn ratchet_chatter(&mut self) {
        let i = self.rng.below(self.users.len() as u64) as usize;
        let cid = self.users[i].cid;
        let v = self.rng.range(1, 40);
        let rm = "citadel_crypt/src/ratchets/ratchet_manager.rs";
        self.proto(
            SERVER,
            Lvl::Info,
            rm,
            897,
            &format!("[CBD-RKT-VERSION] Client {cid} recv AliceToBob: peer_earliest={}, peer_latest={v}, local_earliest={}, local_latest={v}, role=Idle, state=Running", v - 1, v - 1),
        );
        match self.rng.below(10) {
            0 => self.proto(
                SERVER,
                Lvl::Warn,
                rm,
                926,
                &format!("[CBD-RKT-BARRIER] Client {cid} mismatch: peer=({}-{}), local=({}-{v}), role=Idle, state=Running", v, v + 1, v - 1),
            ),
            1..=6 => self.proto(
                SERVER,
                Lvl::Info,
                rm,
                1012,
                &format!("[CBD-RKT-FINAL] Client {cid} rekey completed successfully (version {})", v + 1),
            ),
            _ => {
                let bytes = self.rng.range(96, 1400);
                self.proto(
                    SERVER,
                    Lvl::Debug,
                    "citadel_proto/src/proto/packet_processor/primary_group_packet.rs",
                    211,
                    &format!("[CBD-RKT-ACK] Client {cid} received TRUNCATE_ACK for v{v} (payload {bytes} bytes)"),
                )
            }
        }
    }

    /// A P2P message from one tab to the other, relayed by the service.
    fn p2p_message(&mut self) {
        let (from_tab, to_tab, from, to) = if self.rng.one_in(2) {
            (ALICE, BOB, self.users[0].cid, self.users[1].cid)
        } else {
            (BOB, ALICE, self.users[1].cid, self.users[0].cid)
        };
        let id = self.rng.uuid();
        let ms = self.rng.range(4, 60);
        self.tab(
            from_tab,
            Lvl::Info,
            SENDER,
            &format!("[P2P] Sending message {id} to {}", short(to)),
            &[],
        );
        self.tab(
            from_tab,
            Lvl::Info,
            WASM,
            &format!("Sending reliable P2P message from {from} to {to}"),
            &[],
        );
        let msg = "requests/message.rs";
        self.kernel(
            Lvl::Info,
            "citadel",
            msg,
            35,
            &format!("[P2P-MSG] Sending message from {from} to peer {to}"),
        );
        self.kernel(
            Lvl::Info,
            "citadel",
            msg,
            36,
            &format!("[P2P-MSG] Available peers in conn.peers: [{to}]"),
        );
        self.kernel(
            Lvl::Info,
            "citadel",
            msg,
            72,
            &format!("[P2P-MSG] sink.send() SUCCEEDED for message from {from} to {to}"),
        );
        self.tab(
            from_tab,
            Lvl::Info,
            WASM,
            &format!("Reliable P2P message sent from {from} to {to}"),
            &[],
        );
        self.tab(
            from_tab,
            Lvl::Info,
            SENDER_OK,
            &format!("[P2P] Message {id} sent successfully in {ms}ms"),
            &[],
        );
        // Now and then a message is lost on the way (the absence rule's case).
        if self.rng.one_in(400) {
            return;
        }
        self.kernel(
            Lvl::Info,
            "citadel",
            "responses/message.rs",
            41,
            &format!("[P2P-RECV] Received P2P message! cid={to}, peer_cid={from}"),
        );
        self.tab(
            to_tab,
            Lvl::Info,
            WASM,
            &format!("MessageNotification arrived: cid={to}, peer_cid={from}"),
            &[],
        );
        let f = from.to_string();
        let t = to.to_string();
        self.tab(
            to_tab,
            Lvl::Info,
            CHAT,
            &format!(
                "[P2PChat] onMessage received: {{messageId: {}, messageType: text, senderCid: {}..., recipientCid: {}..., peerCid: {}...}}",
                &id[..8],
                &f[..12],
                &t[..12],
                &f[..12]
            ),
            &[],
        );
    }

    fn peer_connect(&mut self) {
        let (who, cid, peer) = if self.rng.one_in(2) {
            (ALICE, self.users[0].cid, self.users[1].cid)
        } else {
            (BOB, self.users[1].cid, self.users[0].cid)
        };
        let req = self.rng.uuid();
        self.tab(
            who,
            Lvl::Info,
            AUTO_ATTEMPT,
            &format!("P2PAutoConnect: Attempting connection to {}", short(peer)),
            &[],
        );
        self.ilm_trace(who, "PeerConnect");
        let c = "requests/peer/connect.rs";
        self.kernel(
            Lvl::Info,
            "citadel",
            c,
            31,
            &format!(
                "[PeerConnect] Received request: cid={cid}, peer_cid={peer}, request_id={req}"
            ),
        );
        self.kernel(
            Lvl::Info,
            "citadel",
            c,
            99,
            "[PeerConnect] find_target succeeded, calling connect_to_peer_custom with 30s timeout...",
        );
        self.kernel(
            Lvl::Info,
            "citadel",
            "responses/peer_event.rs",
            200,
            &format!("User {peer} received Connect Request from {cid}"),
        );
        self.kernel(
            Lvl::Info,
            "citadel",
            c,
            111,
            "[PeerConnect] connect_to_peer_custom succeeded!",
        );
        self.routed(who, "PeerConnectSuccess", &req);
        self.tab(
            who,
            Lvl::Info,
            AUTO_OK,
            &format!("P2PAutoConnect: Connected to {}", short(peer)),
            &[],
        );
    }

    fn service_misc(&mut self) {
        let i = self.rng.below(self.users.len() as u64) as usize;
        let (cid, conn) = (self.users[i].cid, self.users[i].conn.clone());
        match self.rng.below(6) {
            0 => {
                let req = self.rng.uuid();
                self.kernel(
                    Lvl::Info,
                    "citadel_internal_service::kernel::requests::peer::list_registered",
                    "requests/peer/list_registered.rs",
                    23,
                    &format!("[ListRegisteredPeers] Handling request for cid={cid}, request_id={req}"),
                )
            }
            1 => self.proto(
                INTERNAL,
                Lvl::Info,
                "citadel_proto/src/proto/packet_processor/peer/peer_cmd_packet.rs",
                436,
                &format!(
                    "Simultaneous P2P KEX race: dropping Stage0 from {} (our exchange as lower CID {cid} takes priority)",
                    self.users[(i + 1) % self.users.len()].cid
                ),
            ),
            2 => {
                let (host, port) = (self.rng.range(2, 250), self.rng.range(30000, 60000));
                self.kernel(
                    Lvl::Info,
                    "citadel",
                    "ext.rs",
                    111,
                    &format!("[TCP_CONNECT] Connection {conn} accepted from 172.18.0.{host}:{port}"),
                )
            }
            3 => {
                let rtt = self.rng.range(1, 80);
                self.proto(
                    SERVER,
                    Lvl::Info,
                    "citadel_proto/src/proto/session_manager.rs",
                    1568,
                    &format!("Session for {cid} keep-alive ok (rtt {rtt} ms)"),
                )
            }
            4 => {
                let msg = format!(
                    "[REQ] dispatch request_id={} kind=GetAccountInformation cid={cid} user={}",
                    self.rng.uuid(),
                    self.users[i].name
                );
                self.kernel(Lvl::Debug, "citadel", "requests/mod.rs", 88, &msg)
            }
            _ => {
                // A hole-punch banner: one record, several lines.
                let banner = vec![
                    "╔══════════════════════════════════════════════╗".to_string(),
                    format!("║ HOLE PUNCH  cid={cid:<20}          ║"),
                    format!("║ local  0.0.0.0:{:<5}  peer 172.18.0.{:<3}       ║", self.rng.range(30000, 60000), self.rng.range(2, 250)),
                    "╚══════════════════════════════════════════════╝".to_string(),
                ];
                let file = format!("{PROTO}/citadel_wire/src/udp_traversal/hole_punch_config.rs");
                self.svc(INTERNAL, Lvl::Info, "citadel", &file, 77, "[Hole-punch] starting traversal", &banner);
            }
        }
    }

    fn tab_noise(&mut self) {
        match self.rng.below(4) {
            0 => self.tab(
                BOB,
                Lvl::Warn,
                ROUTER_DOM,
                "⚠️ React Router Future Flag Warning: Relative route resolution within Splat routes is changing in v7. You can use the `v7_relativeSplatPath` future flag to opt-in early.",
                &[
                    "warnOnce @ react-router-dom.js?v=4b1c2d3e:4393",
                    "logV6DeprecationWarnings @ react-router-dom.js?v=4b1c2d3e:4396",
                    "(anonymous) @ react-router-dom.js?v=4b1c2d3e:5268",
                    "commitHookEffectListMount @ chunk-PJEEZAML.js?v=4b1c2d3e:16915",
                    "commitPassiveMountOnFiber @ chunk-PJEEZAML.js?v=4b1c2d3e:18158",
                ],
            ),
            1 => {
                let who = if self.rng.one_in(2) { ALICE } else { BOB };
                let msg = format!(
                    "[Presence] heartbeat seq={} peers={} rtt={}ms",
                    self.rng.below(100_000),
                    self.rng.range(1, 9),
                    self.rng.range(1, 90)
                );
                self.tab(who, Lvl::Debug, Src("src/lib/p2p/presence.ts", 61), &msg, &[]);
            }
            2 => {
                // A multi-line JSON dump in Alice's tab (Playwright keeps the newlines).
                let cid = self.users[0].cid;
                let text = format!(
                    "[ILM-DEBUG] state snapshot {{\n  \"cid\": \"{cid}\",\n  \"pending\": {},\n  \"leader\": true\n}}",
                    self.rng.below(8)
                );
                self.tab(ALICE, Lvl::Debug, Src("src/lib/multi-instance/state.ts", 144), &text, &[]);
            }
            _ => {
                let who = if self.rng.one_in(2) { ALICE } else { BOB };
                self.ilm_trace(who, "GetAccountInformation");
                let u = self.rng.uuid();
                self.routed(who, "GetAccountInformationResponse", &u);
            }
        }
    }

    /// A service error with an anyhow backtrace: every frame line is a continuation with the prefix.
    fn error_with_backtrace(&mut self) {
        let i = self.rng.below(self.users.len() as u64) as usize;
        let cid = self.users[i].cid;
        let req = self.rng.uuid();
        let mut cont = vec!["Stack backtrace:".to_string()];
        let frames = [
            ("anyhow::error::<impl anyhow::Error>::msg", "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/anyhow-1.0.86/src/error.rs:83:36"),
            ("citadel_internal_service::kernel::requests::peer::list_all::handle::{{closure}}", "./citadel-internal-service/src/kernel/requests/peer/list_all.rs:41:21"),
            ("citadel_internal_service::kernel::requests::handle_request::{{closure}}", "./citadel-internal-service/src/kernel/requests/mod.rs:212:17"),
            ("citadel_internal_service::kernel::CitadelWorkspaceService::on_request::{{closure}}", "./citadel-internal-service/src/kernel/mod.rs:418:13"),
            ("<core::pin::Pin<P> as core::future::future::Future>::poll", "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/future/future.rs:123:9"),
            ("tokio::runtime::task::core::Core<T,S>::poll::{{closure}}", "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.38.0/src/runtime/task/core.rs:328:17"),
            ("tokio::runtime::task::harness::Harness<T,S>::poll", "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.38.0/src/runtime/task/harness.rs:151:15"),
            ("tokio::runtime::scheduler::multi_thread::worker::Context::run_task", "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.38.0/src/runtime/scheduler/multi_thread/worker.rs:593:9"),
            ("tokio::runtime::scheduler::multi_thread::worker::Context::run", "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.38.0/src/runtime/scheduler/multi_thread/worker.rs:540:24"),
            ("std::sys::pal::unix::thread::Thread::new::thread_start", "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/std/src/sys/pal/unix/thread.rs:108:17"),
        ];
        let n = self.rng.range(4, frames.len() as u64) as usize;
        for (k, (f, at)) in frames.iter().take(n).enumerate() {
            cont.push(format!("{k:>4}: {f}"));
            cont.push(format!("             at {at}"));
        }
        let msg = format!(
            "Request handler failed for cid={cid}, request_id={req}: error=Connection reset by peer (os error 104)"
        );
        let file = format!("{KERNEL}/mod.rs");
        self.svc(
            INTERNAL,
            Lvl::Error,
            "citadel_internal_service::kernel",
            &file,
            418,
            &msg,
            &cont,
        );
    }

    /// A ratchet gap, the panic that kills the agent, and the tabs losing their WebSocket.
    fn crash(&mut self) {
        let cid = self.users[1].cid;
        let t = "citadel_internal_service::kernel::requests::peer::list_all";
        let req = self.rng.uuid();
        self.ilm_trace(BOB, "ListAllPeers");
        self.kernel(
            Lvl::Info,
            t,
            "requests/peer/list_all.rs",
            22,
            &format!("[ListAllPeers] Handling request for cid={cid}, request_id={req}"),
        );
        let v = self.rng.range(3, 12);
        for r in [v, v - 1] {
            self.proto(
                INTERNAL,
                Lvl::Error,
                "citadel_crypt/src/toolset.rs",
                252,
                &format!("Attempted to get ratchet v{r} for cid={cid}, but does not exist! len: 1. Oldest: 0. Newest: 0"),
            );
        }
        let file = format!("{PROTO}/citadel_logging/src/lib.rs");
        self.svc(
            INTERNAL,
            Lvl::Error,
            "citadel",
            &file,
            89,
            &format!(
                "Panic occurred: panicked at {PROTO}/citadel_proto/src/proto/session.rs:2254:18:"
            ),
            &["called `Option::unwrap()` on a `None` value".to_string()],
        );
        self.tick(150, 250);
        for who in [ALICE, BOB] {
            self.tab(
                who,
                Lvl::Info,
                WASM,
                "Error sending WebSocket message: ConnectionNotOpen",
                &[],
            );
            self.tab(
                who,
                Lvl::Info,
                WASM,
                "WebSocket communication task ended",
                &[],
            );
            self.tab(
                who,
                Lvl::Warn,
                DEBUG_BRIDGE,
                "[WasmDebugBridge] WebSocket disconnected: WebSocket communication task ended",
                &[
                    "onWasmWebSocketDisconnected @ wasm-debug-bridge.ts:41",
                    "__wbg_onWasmWebSocketDisconnected_9b3f1c52 @ citadel_internal_service_wasm_client.js:1377",
                    "Promise.then",
                ],
            );
        }
        self.tab(
            BOB,
            Lvl::Error,
            WASM_ERR,
            "ERROR citadel-internal-service-connector/src/messenger/mod.rs:672 \nNetwork inbound task ended. Messenger is shutting down",
            &[
                "__wbg_error_7534b8e9a36f1ab4 @ citadel_internal_service_wasm_client.js:1098",
                "$console_log::log::h2b7e0f4c9d1a3865 @ citadel_internal_service_wasm_client_bg.wasm:0x20b7c1",
                "Promise.then",
            ],
        );
        let now = self.now;
        self.outage = Some(Outage {
            restart_at: now + 5600 * MS,
            reconnect_at: now + self.rng.range(40, 90) as i64 * SEC,
            attempt: 0,
            next_retry: now + 30 * SEC,
        });
    }

    fn outage_step(&mut self) {
        let now = self.now;
        let Some(o) = self.outage.as_mut() else {
            return;
        };
        if o.restart_at <= now {
            o.restart_at = i64::MAX;
            self.startup();
        }
        let Some(o) = self.outage.as_mut() else {
            return;
        };
        if o.reconnect_at <= now {
            self.outage = None;
            self.tabs_connect();
            return;
        }
        if o.next_retry <= now {
            o.attempt += 1;
            let attempt = o.attempt;
            o.next_retry = now + (1i64 << attempt.min(5)) * SEC;
            let peer = short(self.users[0].cid);
            self.tab(
                BOB,
                Lvl::Info,
                AUTO_ATTEMPT,
                &format!("P2PAutoConnect: Attempting connection to {peer}"),
                &[],
            );
            self.tab(
                BOB,
                Lvl::Info,
                WASM,
                "Failed to send message to WebSocket channel: SendError { .. }",
                &[],
            );
            self.tab(
                BOB,
                Lvl::Warn,
                AUTO_FAIL,
                &format!(
                    "P2PAutoConnect: Connect failed for {peer}, retry in {}s (attempt {attempt})",
                    1u32 << attempt.min(5)
                ),
                &[
                    "connectWithRetry @ p2p-auto-connect-service.ts:214",
                    "await in connectWithRetry",
                    "(anonymous) @ p2p-auto-connect-service.ts:226",
                    "setTimeout",
                ],
            );
            return;
        }
        match self.rng.below(12) {
            0..=7 => {
                // The session poll hits the closed channel in both tabs.
                for who in [ALICE, BOB] {
                    if self.rng.one_in(2) {
                        continue;
                    }
                    self.ilm_trace(who, "GetSessions");
                    self.tab(who, Lvl::Info, WASM, "Failed to send message to WebSocket channel: SendError { .. }", &[]);
                    self.tab(
                        who,
                        Lvl::Error,
                        CONN_MGR,
                        "ConnectionManager: Failed to get active sessions Failed to send message: channel closed",
                        &[
                            "getActiveSessions @ connection-manager.ts:291",
                            "await in getActiveSessions",
                            "pollSessions @ connection-manager.ts:264",
                            "setInterval",
                        ],
                    );
                }
            }
            8 => self.tab(
                ALICE,
                Lvl::Error,
                PEER_LIST,
                "[PeerList] Failed to load peers: Error: ListAllPeers request timed out\n    at rejectPending (http://localhost:5173/src/lib/websocket/request-response.ts:57:23)\n    at http://localhost:5173/src/lib/websocket/request-response.ts:64:9",
                &[],
            ),
            9 => self.both(Lvl::Error, CONN_MGR, "ConnectionManager: Failed to get active sessions Error: GetSessions request timed out", &[]),
            _ => {
                // The restarted agent's healthcheck probe sees no sessions.
                if now > self.outage.as_ref().map_or(i64::MAX, |o| o.restart_at) {
                    self.kernel(
                        Lvl::Info,
                        "citadel",
                        "requests/get_sessions.rs",
                        26,
                        "GetSessions: Found 0 total sessions in server_connection_map",
                    );
                }
            }
        }
    }
}

/// `kind` text of at least `bytes` bytes (whole lines), from `seed`.
pub fn generate(kind: Kind, bytes: usize, seed: u64) -> String {
    let mut sim = Sim::single(kind, seed);
    while sim.len(kind) < bytes {
        sim.step();
    }
    sim.take(kind)
}

/// A mixed corpus: the service log of at least `service_bytes` bytes and Alice's and Bob's tabs over
/// the same span of time (each about a sixth of the service log).
pub struct Corpus {
    /// `internal-service.log`.
    pub service: String,
    /// `alice-tab0.playwright.log`.
    pub alice: String,
    /// `bob-tab1.devtools.log`.
    pub bob: String,
}

impl Corpus {
    /// Generate from `seed`.
    pub fn generate(service_bytes: usize, seed: u64) -> Corpus {
        let mut sim = Sim::mixed(seed);
        while sim.len(Kind::CitadelTracing) < service_bytes {
            sim.step();
        }
        Corpus {
            service: sim.take(Kind::CitadelTracing),
            alice: sim.take(Kind::PlaywrightMcp),
            bob: sim.take(Kind::ChromeDevtools),
        }
    }

    /// (file name, text) of each file.
    pub fn files(&self) -> [(&'static str, &str); 3] {
        [
            (Kind::CitadelTracing.file_name(), &self.service),
            (Kind::PlaywrightMcp.file_name(), &self.alice),
            (Kind::ChromeDevtools.file_name(), &self.bob),
        ]
    }

    /// Total bytes.
    pub fn len(&self) -> usize {
        self.service.len() + self.alice.len() + self.bob.len()
    }
}

/// Bytes of input a bench generates: `DIAG_BENCH_MB` megabytes, else `default_mb`.
#[allow(dead_code)] // Not every bench that includes this module sizes its input by it.
pub fn bench_bytes(default_mb: usize) -> usize {
    let mb: usize = std::env::var("DIAG_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_mb);
    mb * 1_000_000
}

/// Parse `1G`, `100M`, `512K`, `8MB`, `1GiB` or a plain byte count (powers of 1000 for K/M/G, of 1024
/// for Ki/Mi/Gi).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mul = match unit.trim().to_ascii_uppercase().trim_end_matches('B') {
        "" => 1,
        "K" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "KI" => 1 << 10,
        "MI" => 1 << 20,
        "GI" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mul)
}
