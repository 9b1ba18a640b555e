//! Spool: standard input copied to a private temporary file as it arrives, so that the TUI can read
//! it again on every reload and follow it like a growing file (`docker compose logs -f | diag tui -`).
//! The file is removed when the spool is dropped.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// A reader being copied to a temporary file by a background thread.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
}

/// Bytes copied per read; each is written through at once, so a reload sees what has arrived.
const CHUNK: usize = 64 * 1024;

impl Spool {
    /// Start copying `input` to a new file in `dir` (created with `create_new`: never an existing file
    /// or a link someone planted; mode 0600 on Unix).
    pub fn start(input: impl Read + Send + 'static, dir: &Path) -> io::Result<Spool> {
        let (file, path) = crate::source::private_file(dir)?;
        std::thread::Builder::new()
            .name("diag-spool".into())
            .spawn(move || copy(input, file))?;
        Ok(Spool { path })
    }

    /// Where the copy is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Copy until the end of input or the first error (a full disk stops the copy; what was written
/// stays readable).
fn copy(mut input: impl Read, mut file: File) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let Some(chunk) = buf.get(..n) else { break };
                if file.write_all(chunk).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let _ = file.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// A reader fed line by line from a channel, like a pipe that stays open.
    struct Pipe(mpsc::Receiver<Vec<u8>>, Vec<u8>);

    impl Read for Pipe {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.1.is_empty() {
                match self.0.recv() {
                    Ok(v) => self.1 = v,
                    Err(_) => return Ok(0),
                }
            }
            let n = out.len().min(self.1.len());
            out[..n].copy_from_slice(&self.1[..n]);
            self.1.drain(..n);
            Ok(n)
        }
    }

    fn wait_for(path: &Path, want: &str) {
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if text == want {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{text:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn what_arrives_is_readable_at_once_and_the_file_goes_with_the_spool() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let spool = Spool::start(Pipe(rx, Vec::new()), dir.path()).unwrap();
        let path = spool.path().to_path_buf();
        tx.send(b"first line\n".to_vec()).unwrap();
        wait_for(&path, "first line\n");
        // Still open: a second line arrives later and is appended.
        tx.send(b"second line\n".to_vec()).unwrap();
        wait_for(&path, "first line\nsecond line\n");
        drop(tx);
        let other = Spool::start(io::empty(), dir.path()).unwrap();
        assert_ne!(other.path(), path, "each spool has its own file");
        drop(spool);
        assert!(!path.exists());
    }
}
