//! Definition-file plumbing shared by every loader: `DefError` (file, line, fix), line numbers of TOML
//! keys, regexes compiled with their line, and reading a user's directory of `*.toml` files.

use regex::Regex;
use std::path::Path;

/// An error in a definition file, naming file, line and the fix.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct DefError {
    /// File name.
    pub file: String,
    /// 1-based line of the problem (1 when unknown).
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// Line of a byte offset in `text` (1-based).
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Line on which `key = ` (or `[key]`) first appears after `from`, for pointing at a value.
pub fn line_of_key(text: &str, key: &str, nth: usize) -> usize {
    let mut seen = 0;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
            if seen == nth {
                return i + 1;
            }
            seen += 1;
        }
    }
    1
}

/// Turn a TOML deserialisation error into a `DefError` with a line.
pub fn toml_error(file: &str, text: &str, e: toml::de::Error) -> DefError {
    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
    DefError {
        file: file.to_string(),
        line,
        message: e.message().trim().to_string(),
    }
}

/// What to do about a regex error: a pattern past the size limit needs to be made smaller.
pub fn regex_hint(e: &regex::Error) -> &'static str {
    match e {
        regex::Error::CompiledTooBig(_) => {
            "; make the pattern smaller (bound or drop nested counted repeats like `(\\w{100}){100}`, split it in several patterns)"
        }
        _ => "",
    }
}

/// Compile a regex from a definition, pointing at its line on error.
pub fn compile(
    file: &str,
    text: &str,
    key: &str,
    nth: usize,
    pat: &str,
) -> Result<Regex, DefError> {
    Regex::new(pat).map_err(|e| DefError {
        file: file.to_string(),
        line: line_of_key(text, key, nth),
        message: format!("invalid regex in `{key}`: {e}{}", regex_hint(&e)),
    })
}

/// The `*.toml` files of a user directory, sorted: (path, file name, text). `what` names the directory
/// in errors (`parsers`, `rules`).
pub fn read_toml_dir(dir: &Path, what: &str) -> Result<Vec<(String, String, String)>, DefError> {
    let rd = std::fs::read_dir(dir).map_err(|e| DefError {
        file: dir.display().to_string(),
        line: 1,
        message: format!("cannot read the {what} directory: {e}; check the path"),
    })?;
    let mut paths: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let text = std::fs::read_to_string(&p).map_err(|e| DefError {
            file: p.display().to_string(),
            line: 1,
            message: format!("cannot read: {e}"),
        })?;
        let base = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        out.push((p.display().to_string(), base, text));
    }
    Ok(out)
}
