//! Read: turn the user's LOGS arguments into labelled inputs and their inputs into lines.
//!
//! This is the only place that touches files: `label=path` labels, directories, globs, `.gz` (detected by
//! magic bytes), stdin (`-`), binary refusal, invalid UTF-8 (read lossily, counted), CRLF, and the cap on
//! line length (longer lines are cut and counted) that keeps memory bounded whatever the input.

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use crate::model::ReadStats;

/// Longest line kept; the rest of a longer line is dropped and counted.
pub const MAX_LINE: usize = 1 << 20;

/// A gzip input that inflates to more than this many times its compressed size, once past
/// [`BOMB_MIN_BYTES`], is a gz bomb (or not a log): reading stops there. Logs compress about 5 to 50
/// times; deflate cannot exceed about 1032.
pub const BOMB_RATIO: u64 = 250;

/// Decompressed bytes below which the ratio is not checked (small, very repetitive logs are fine; past
/// 4 MiB, real logs, with their varying times and ids, stay far below the ratio).
pub const BOMB_MIN_BYTES: u64 = 4 << 20;

/// Counts the bytes a reader hands out (the compressed side of a gzip input).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Errors that stop an input from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path does not exist or cannot be opened.
    #[error("cannot read {path}: {source}. Check the path, or pass `-` to read standard input")]
    Open {
        /// The path as given.
        path: String,
        /// The OS error.
        source: io::Error,
    },
    /// The input looks binary.
    #[error("{path} looks like a binary file (NUL bytes in its first 8 KiB), not a log; skip it or pass the decompressed text")]
    Binary {
        /// The path as given.
        path: String,
    },
    /// A glob pattern was malformed or matched nothing.
    #[error("{0}")]
    Glob(String),
}

/// One input to read, after expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Short name shown on every event (`alice`, `internal-service`).
    pub label: String,
    /// Path, or `None` for stdin.
    pub path: Option<PathBuf>,
    /// Whether the label was given by the user (`alice=tab0.log`).
    pub labelled: bool,
    /// Standard input copied to the private file `path` (to be read twice, or followed): shown
    /// as standard input, and its file name means nothing.
    pub spooled: bool,
}

impl Input {
    /// Path as shown to people.
    pub fn display(&self) -> String {
        match &self.path {
            Some(p) if !self.spooled => p.display().to_string(),
            _ => "<stdin>".to_string(),
        }
    }

    /// The file's name, when it is a file with a UTF-8 name (formats take a date from it).
    pub fn file_name(&self) -> Option<&str> {
        if self.spooled {
            return None;
        }
        self.path
            .as_ref()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
    }
}

/// A new private file in `dir` for a copy of standard input: created with `create_new` (never an
/// existing file or a link someone planted), mode 0600 on Unix.
pub fn private_file(dir: &Path) -> io::Result<(File, PathBuf)> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last = None;
    for n in 0..16u32 {
        let path = dir.join(format!(
            "diag-stdin-{}-{stamp:x}-{n}.log",
            std::process::id()
        ));
        match opts.open(&path) {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free name for a copy of standard input")))
}

/// A whole copy of a stream (standard input) in a private file, removed when this is dropped: an
/// input that can be read twice.
#[derive(Debug)]
pub struct Copied {
    path: PathBuf,
    /// Bytes copied.
    pub bytes: u64,
}

impl Copied {
    /// The empty private file in `dir` a copy will go to (nothing is read yet: a caller that
    /// cannot have one can still read the stream itself).
    pub fn start(dir: &Path) -> io::Result<Empty> {
        let (file, path) = private_file(dir)?;
        Ok(Empty {
            copy: Copied { path, bytes: 0 },
            file,
        })
    }

    /// Where the copy is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The input `stdin` read from this copy.
    pub fn input_for(&self, stdin: &Input) -> Input {
        Input {
            path: Some(self.path.clone()),
            spooled: true,
            ..stdin.clone()
        }
    }
}

/// A private file made for a copy, not written yet ([`Copied::start`]); removed when dropped.
#[derive(Debug)]
pub struct Empty {
    copy: Copied,
    file: File,
}

impl Empty {
    /// Copy `from` to its end into the file.
    pub fn fill(self, mut from: impl Read) -> io::Result<Copied> {
        let Empty { mut copy, file } = self;
        let mut out = io::BufWriter::with_capacity(1 << 20, file);
        copy.bytes = io::copy(&mut from, &mut out)?;
        out.flush()?;
        Ok(copy)
    }
}

impl Drop for Copied {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Split `label=path` (a label is a plain word; `=` inside a real path with a slash before it is kept).
fn split_label(arg: &str) -> (Option<String>, &str) {
    if let Some((l, p)) = arg.split_once('=') {
        let plain = !l.is_empty()
            && l.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.');
        if plain && !p.is_empty() {
            return (Some(l.to_string()), p);
        }
    }
    (None, arg)
}

/// Default label of a file: its name up to the first dot (`alice-tab0.playwright.log` → `alice-tab0`).
fn stem_label(p: &Path) -> String {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("input");
    let stem = name.split('.').next().unwrap_or(name);
    if stem.is_empty() {
        name.to_string()
    } else {
        stem.to_string()
    }
}

fn is_log_candidate(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with('.') {
        return false;
    }
    // Directories hold READMEs and expectations next to the logs; those are not evidence.
    let lower = name.to_ascii_lowercase();
    !(lower.ends_with(".md") || lower.ends_with(".toml") || lower.ends_with(".snap"))
}

/// What expansion left out, for the user to see.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Skipped {
    /// Inputs skipped on purpose (the same file given twice, a symlink loop): one note each.
    pub notes: Vec<String>,
    /// Parts of a directory that could not be read (a folder without permission). The run rests on
    /// partial evidence when this is not empty.
    pub unreadable: Vec<crate::model::Unread>,
}

/// The inputs of the LOGS arguments, each file once, and what was skipped.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Expansion {
    /// Inputs to read, in argument order (directories sorted by name).
    pub inputs: Vec<Input>,
    /// What was skipped and why.
    pub skipped: Skipped,
}

/// Walk a directory (sorted, hidden entries skipped), following symlinks; a link back to a folder being
/// walked is a loop: noted and not followed (walkdir detects it).
fn walk(dir: &Path, out: &mut Vec<PathBuf>, skipped: &mut Skipped) {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || e.file_name().to_str().is_some_and(|n| !n.starts_with('.'))
        });
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() && is_log_candidate(e.path()) => {
                out.push(e.into_path())
            }
            Ok(_) => {}
            Err(e) => {
                let at = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| dir.display().to_string());
                if let Some(back) = e.loop_ancestor() {
                    skipped.notes.push(format!(
                        "{at}: a symbolic link loop back to {}; not followed",
                        back.display()
                    ));
                } else if e
                    .io_error()
                    .is_some_and(|io| io.kind() == io::ErrorKind::NotFound)
                {
                    // A dangling link: nothing there to read.
                    skipped
                        .notes
                        .push(format!("{at}: a broken symbolic link; skipped"));
                } else {
                    let why = e
                        .io_error()
                        .map(|io| io.to_string())
                        .unwrap_or_else(|| e.to_string());
                    skipped.unreadable.push(crate::model::Unread {
                        path: at,
                        error: why,
                    });
                }
            }
        }
    }
}

/// What makes two paths the same file: device and inode where the OS has them, else the canonical path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Path(PathBuf),
    Stdin,
}

fn identity(p: Option<&Path>) -> Option<Identity> {
    let Some(p) = p else {
        return Some(Identity::Stdin);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p)
            .ok()
            .map(|m| Identity::Inode(m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(p).ok().map(Identity::Path)
    }
}

/// Expand LOGS arguments into inputs: files, directories (recursively, sorted), globs, `-`.
pub fn expand(args: &[String]) -> Result<Vec<Input>, InputError> {
    expand_all(args).map(|e| e.inputs)
}

/// [`expand`], each file read once however often it is named (by identity: device and inode), symlink
/// loops noted and not followed, unreadable folders reported; what was skipped comes back beside.
pub fn expand_all(args: &[String]) -> Result<Expansion, InputError> {
    let mut out: Vec<Input> = Vec::new();
    let mut skipped = Skipped::default();
    let mut seen: std::collections::HashMap<Identity, String> = std::collections::HashMap::new();
    let mut keep = |path: Option<&Path>, shown: String, skipped: &mut Skipped| -> bool {
        match identity(path) {
            Some(id) => match seen.get(&id) {
                Some(first) if *first == shown => {
                    skipped
                        .notes
                        .push(format!("{shown}: given more than once; read once"));
                    false
                }
                Some(first) => {
                    skipped
                        .notes
                        .push(format!("{shown}: the same file as {first}; read once"));
                    false
                }
                None => {
                    seen.insert(id, shown);
                    true
                }
            },
            // Not stat-able: opening it will say why.
            None => true,
        }
    };
    for arg in args {
        let (label, path) = split_label(arg);
        if path == "-" {
            if keep(None, "<stdin>".into(), &mut skipped) {
                out.push(Input {
                    label: label.clone().unwrap_or_else(|| "stdin".into()),
                    path: None,
                    labelled: label.is_some(),
                    spooled: false,
                });
            }
            continue;
        }
        let mut paths = Vec::new();
        let p = Path::new(path);
        if p.is_dir() {
            walk(p, &mut paths, &mut skipped);
        } else if p.exists() {
            paths.push(p.to_path_buf());
        } else if path.contains(['*', '?', '[']) {
            let g = glob::glob(path)
                .map_err(|e| InputError::Glob(format!("bad glob pattern {path:?}: {e}")))?;
            for entry in g.flatten() {
                if entry.is_file() {
                    paths.push(entry);
                }
            }
            if paths.is_empty() {
                return Err(InputError::Glob(format!(
                    "the pattern {path:?} matched no file; check the path or quote it differently"
                )));
            }
        } else {
            return Err(InputError::Open {
                path: path.to_string(),
                source: io::Error::new(io::ErrorKind::NotFound, "no such file or directory"),
            });
        }
        paths.retain(|p| keep(Some(p), p.display().to_string(), &mut skipped));
        let several = paths.len() > 1;
        for p in paths {
            let l = match (&label, several) {
                (Some(l), false) => l.clone(),
                (Some(l), true) => format!("{l}/{}", stem_label(&p)),
                (None, _) => stem_label(&p),
            };
            out.push(Input {
                label: l,
                path: Some(p),
                labelled: label.is_some(),
                spooled: false,
            });
        }
    }
    disambiguate(&mut out);
    Ok(Expansion {
        inputs: out,
        skipped,
    })
}

/// Two inputs with one label get their parent folder's name in front, then a number.
fn disambiguate(inputs: &mut [Input]) {
    let labels: Vec<String> = inputs.iter().map(|i| i.label.clone()).collect();
    for (inp, me) in inputs.iter_mut().zip(&labels) {
        let dup = labels.iter().filter(|l| *l == me).count() > 1;
        if dup && !inp.labelled {
            if let Some(parent) = inp
                .path
                .as_ref()
                .and_then(|p| p.parent())
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
            {
                inp.label = format!("{parent}/{}", inp.label);
            }
        }
    }
    let labels: Vec<String> = inputs.iter().map(|i| i.label.clone()).collect();
    for (i, (inp, me)) in inputs.iter_mut().zip(&labels).enumerate() {
        let n = labels.iter().take(i).filter(|l| *l == me).count();
        if n > 0 {
            inp.label = format!("{}#{}", inp.label, n + 1);
        }
    }
}

/// The first bytes of every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Open an input: gzip is recognised by its magic bytes, binary input is refused.
pub fn open(input: &Input) -> Result<LineReader, InputError> {
    let raw: Box<dyn Read + Send> = match &input.path {
        Some(p) => Box::new(File::open(p).map_err(|e| InputError::Open {
            path: p.display().to_string(),
            source: e,
        })?),
        None => Box::new(io::stdin()),
    };
    from_reader(raw, &input.display())
}

/// Build a line reader over any byte stream (used by tests and stdin).
pub fn from_reader(raw: Box<dyn Read + Send>, name: &str) -> Result<LineReader, InputError> {
    let compressed = Arc::new(AtomicU64::new(0));
    let counted: Box<dyn Read + Send> = Box::new(Counting {
        inner: raw,
        count: Arc::clone(&compressed),
    });
    // 16 KiB reads keep the compressed count close to what was inflated, so the bomb guard acts early.
    let mut br = BufReader::with_capacity(16 * 1024, counted);
    let head = br.fill_buf().map_err(|e| InputError::Open {
        path: name.to_string(),
        source: e,
    })?;
    let gzip = head.starts_with(&GZIP_MAGIC);
    let mut reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(64 * 1024, MultiGzDecoder::new(br)))
    } else {
        Box::new(br)
    };
    // Sniff the (decompressed) head for NULs: logs never hold them, binaries always do.
    let head = match reader.fill_buf() {
        Ok(h) => h,
        Err(e) if gzip => {
            return Ok(LineReader::failed(format!("gzip data is corrupt: {e}")));
        }
        Err(e) => {
            return Err(InputError::Open {
                path: name.to_string(),
                source: e,
            })
        }
    };
    let sniff = head.get(..8192).unwrap_or(head);
    // UTF-16 logs (Windows) have NULs too; they are out of scope, so they are refused the same way.
    if memchr::memchr(0, sniff).is_some() {
        return Err(InputError::Binary {
            path: name.to_string(),
        });
    }
    Ok(LineReader {
        reader: Some(reader),
        stats: ReadStats {
            gzip,
            ..Default::default()
        },
        buf: Vec::with_capacity(1024),
        compressed: gzip.then_some(compressed),
    })
}

/// The compressed bytes read, when a gzip input has inflated past [`BOMB_RATIO`] times that.
fn bomb(compressed: Option<&AtomicU64>, bytes: u64) -> Option<u64> {
    let c = compressed?.load(Ordering::Relaxed);
    (bytes > BOMB_MIN_BYTES && bytes / c.max(1) > BOMB_RATIO).then_some(c)
}

/// Reads lines with a length cap, lossy UTF-8 and CRLF handling.
pub struct LineReader {
    reader: Option<Box<dyn BufRead + Send>>,
    /// What reading had to mend so far.
    pub stats: ReadStats,
    buf: Vec<u8>,
    /// Compressed bytes read so far, for a gzip input (the gz bomb guard).
    compressed: Option<Arc<AtomicU64>>,
}

impl LineReader {
    fn failed(msg: String) -> LineReader {
        LineReader {
            reader: None,
            stats: ReadStats {
                gzip: true,
                error: Some(msg),
                ..Default::default()
            },
            buf: Vec::new(),
            compressed: None,
        }
    }

    /// The next line without its end (`\n` or `\r\n`), or `None` at the end or after a read error
    /// (recorded in `stats.error`).
    pub fn next_line(&mut self) -> Option<String> {
        if !self.advance(true) {
            return None;
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Some(match std::str::from_utf8(&self.buf) {
            Ok(s) => s.to_string(),
            Err(_) => {
                self.stats.invalid_utf8 += 1;
                String::from_utf8_lossy(&self.buf).into_owned()
            }
        })
    }

    /// Pass over the next line without copying or decoding it (a second pass that wants other
    /// lines); `false` at the end, as [`LineReader::next_line`] gives `None`.
    pub fn skip_line(&mut self) -> bool {
        self.advance(false)
    }

    /// Read up to the next line end, into `buf` when `keep`; whether there was a line.
    fn advance(&mut self, keep: bool) -> bool {
        let Some(reader) = self.reader.as_mut() else {
            return false;
        };
        self.buf.clear();
        let mut cut = false;
        let mut got_any = false;
        loop {
            let chunk = match reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.stats.error = Some(if self.stats.gzip {
                        format!(
                            "gzip stream ends early or is corrupt after line {}: {e}",
                            self.stats.lines + u64::from(got_any)
                        )
                    } else {
                        format!(
                            "read error after line {}: {e}",
                            self.stats.lines + u64::from(got_any)
                        )
                    });
                    self.reader = None;
                    break;
                }
            };
            if chunk.is_empty() {
                self.reader = None;
                break;
            }
            if let Some(c) = bomb(self.compressed.as_deref(), self.stats.bytes) {
                self.stats.error = Some(format!(
                    "gzip data inflates more than {BOMB_RATIO} times ({} MB from {} KB), which no log does: \
                     reading stopped after line {} (a gz bomb, or not a log; decompress it yourself if it is one)",
                    self.stats.bytes >> 20,
                    c >> 10,
                    self.stats.lines
                ));
                self.reader = None;
                break;
            }
            got_any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if keep {
                let room = MAX_LINE.saturating_sub(self.buf.len());
                if take > room {
                    cut = true;
                }
                self.buf
                    .extend_from_slice(chunk.get(..take.min(room)).unwrap_or_default());
            }
            let consumed = if done { take + 1 } else { take };
            self.stats.bytes += consumed as u64;
            reader.consume(consumed);
            if done {
                break;
            }
        }
        if !got_any {
            return false;
        }
        self.stats.lines += 1;
        if cut {
            self.stats.truncated += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn reader(bytes: &[u8]) -> Result<LineReader, InputError> {
        from_reader(Box::new(io::Cursor::new(bytes.to_vec())), "test")
    }

    fn all(mut r: LineReader) -> (Vec<String>, ReadStats) {
        let mut v = Vec::new();
        while let Some(l) = r.next_line() {
            v.push(l);
        }
        (v, r.stats)
    }

    /// A copy holds every byte of its stream in a file of its own (mode 0600), stands for stdin
    /// (shown as such, no file name), and goes when dropped; a folder it cannot write to is an
    /// error, not a panic.
    #[test]
    fn a_copy_of_a_stream_is_private_whole_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let c = Copied::start(dir.path())
            .unwrap()
            .fill(io::Cursor::new(data.clone()))
            .unwrap();
        assert_eq!(c.bytes, data.len() as u64);
        assert_eq!(std::fs::read(c.path()).unwrap(), data);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(c.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let stdin = Input {
            label: "svc".into(),
            path: None,
            labelled: true,
            spooled: false,
        };
        let i = c.input_for(&stdin);
        assert_eq!((i.display().as_str(), i.file_name()), ("<stdin>", None));
        assert_eq!((i.label.as_str(), i.labelled), ("svc", true));
        let path = c.path().to_path_buf();
        drop(c);
        assert!(!path.exists());
        assert!(Copied::start(&dir.path().join("missing")).is_err());
    }

    /// Passing over lines counts them and their bytes as reading them does, without a copy: the
    /// lines after them read the same, however long the ones passed over (past `MAX_LINE`).
    #[test]
    fn skipped_lines_count_as_read_ones() {
        let long = "x".repeat(MAX_LINE + 10);
        let text = format!("a\r\n{long}\nb\n\nc");
        let (lines, read) = all(reader(text.as_bytes()).unwrap());
        let mut r = reader(text.as_bytes()).unwrap();
        assert_eq!(r.next_line().as_deref(), Some("a"));
        assert!(r.skip_line());
        assert_eq!(r.next_line().as_deref(), Some("b"));
        assert!(r.skip_line());
        assert!(r.skip_line());
        assert!(!r.skip_line());
        assert_eq!(r.next_line(), None);
        assert_eq!(lines.len(), 5);
        assert_eq!((r.stats.lines, r.stats.bytes), (read.lines, read.bytes));
        assert_eq!(r.stats.truncated, 0, "a line passed over is not cut");
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        let (lines, st) = all(reader(b"a\r\nb\nc").unwrap());
        assert_eq!(lines, vec!["a", "b", "c"]);
        assert_eq!(st.lines, 3);
    }

    #[test]
    fn invalid_utf8_is_lossy_and_counted() {
        let (lines, st) = all(reader(b"ok\nbad \xff\xfe here\n").unwrap());
        assert_eq!(lines[1], "bad \u{fffd}\u{fffd} here");
        assert_eq!(st.invalid_utf8, 1);
    }

    #[test]
    fn binary_is_refused() {
        let err = reader(b"\x7fELF\x00\x00\x01").err().unwrap();
        assert!(err.to_string().contains("binary"), "{err}");
    }

    #[test]
    fn long_line_is_cut_and_counted() {
        let mut data = vec![b'x'; MAX_LINE + 500];
        data.extend_from_slice(b"\nnext\n");
        let (lines, st) = all(reader(&data).unwrap());
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1], "next");
        assert_eq!(st.truncated, 1);
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_is_detected_and_read() {
        let (lines, st) = all(reader(&gz(b"one\ntwo\n")).unwrap());
        assert_eq!(lines, vec!["one", "two"]);
        assert!(st.gzip);
        assert!(st.error.is_none());
    }

    #[test]
    fn truncated_gzip_reports_an_error_and_keeps_what_was_read() {
        let text: String = (0..5000)
            .map(|i| format!("line {i} of the log\n"))
            .collect();
        let z = gz(text.as_bytes());
        let (lines, st) = all(reader(&z[..z.len() / 2]).unwrap());
        assert!(st.error.is_some());
        assert!(!lines.is_empty());
    }

    #[test]
    fn labels_and_stems() {
        assert_eq!(
            split_label("alice=tab0.log"),
            (Some("alice".into()), "tab0.log")
        );
        assert_eq!(split_label("/a/b=c/x.log"), (None, "/a/b=c/x.log"));
        assert_eq!(
            stem_label(Path::new("x/alice-tab0.playwright.log")),
            "alice-tab0"
        );
    }

    #[test]
    fn a_file_named_twice_or_through_a_link_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.log");
        std::fs::write(&a, "x\n").unwrap();
        let a = a.to_str().unwrap().to_string();
        let e = expand_all(&[a.clone(), a.clone()]).unwrap();
        assert_eq!(e.inputs.len(), 1);
        assert!(e.skipped.notes[0].contains("given more than once"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&a, dir.path().join("b.log")).unwrap();
            std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
            let e = expand_all(&[dir.path().to_str().unwrap().to_string()]).unwrap();
            assert_eq!(e.inputs.len(), 1, "{e:?}");
            assert!(e
                .skipped
                .notes
                .iter()
                .any(|n| n.contains("the same file as")));
            assert!(e
                .skipped
                .notes
                .iter()
                .any(|n| n.contains("symbolic link loop")));
        }
    }

    #[test]
    fn a_gz_bomb_stops_at_the_ratio_guard() {
        let line: Vec<u8> = [vec![b'x'; 1023], vec![b'\n']].concat();
        let chunk: Vec<u8> = line.repeat(1024);
        let member = gz(&chunk);
        let bomb: Vec<u8> = member.repeat(64);
        let (lines, st) = all(reader(&bomb).unwrap());
        let err = st.error.unwrap();
        assert!(err.contains("gz bomb"), "{err}");
        assert!(st.bytes < 32 << 20, "{}", st.bytes);
        assert!(lines.len() < 64 * 1024);
    }

    #[test]
    fn missing_path_is_an_error() {
        let e = expand(&["/no/such/file.log".into()]).unwrap_err();
        assert!(e.to_string().contains("/no/such/file.log"));
    }
}
