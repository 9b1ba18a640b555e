//! A definition's samples are its own test: each must parse as stated. This is where the registry is
//! loaded for use, since only the parser can tell whether a sample parses.

use super::record::SourceParser;
use crate::defs::{DefError, Extractors, Format, Registry};
use crate::model::Event;
use std::path::Path;

impl Registry {
    /// The built-in definitions plus, when given, a user directory that adds or overrides (same
    /// `name`); a format whose sample does not parse as stated is refused, naming file and line.
    pub fn load(extra: Option<&Path>) -> Result<Registry, DefError> {
        Registry::load_with(extra, &check_samples)
    }
}

/// Parse one line as a record of `fmt` (used to check a definition's samples).
pub fn parse_sample(fmt: &Format, line: &str) -> Option<Event> {
    let reg = Registry {
        formats: vec![],
        collectors: vec![],
        entities: Extractors::default(),
        anchors: vec![],
    };
    let mut p = SourceParser::new(fmt, &reg);
    p.push(1, line);
    let out: Vec<(Option<String>, Event)> = p
        .finish()
        .into_iter()
        .flat_map(|(k, v)| v.into_iter().map(move |e| (k.clone(), e)))
        .collect();
    out.into_iter().next().map(|(_, e)| e)
}

/// Check every sample of a format: it parses as one record with the level, message and target it states.
pub fn check_samples(fmt: &Format) -> Result<(), DefError> {
    let file = fmt.origin.as_str();
    let err = |line: usize, message: String| DefError {
        file: file.into(),
        line,
        message,
    };
    for (i, s) in fmt.samples.iter().enumerate() {
        let line = s.def_line;
        let ev = parse_sample(fmt, &s.line).ok_or_else(|| {
            err(
                line,
                format!("sample {} does not parse as a record of this format", i + 1),
            )
        })?;
        let want_level = s.expected_level(file)?;
        if want_level.is_some() && ev.level != want_level {
            return Err(err(
                line,
                format!(
                    "sample {} parses with level {:?}, the sample says {:?}",
                    i + 1,
                    ev.level.map(|l| l.as_str()),
                    s.level
                ),
            ));
        }
        if let Some(m) = &s.message {
            if &ev.message != m {
                return Err(err(
                    line,
                    format!(
                        "sample {} parses with message {:?}, the sample says {m:?}",
                        i + 1,
                        ev.message
                    ),
                ));
            }
        }
        if let Some(t) = &s.target {
            if ev.target.as_deref() != Some(t.as_str()) {
                return Err(err(
                    line,
                    format!(
                        "sample {} parses with target {:?}, the sample says {t:?}",
                        i + 1,
                        ev.target
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::format::load_format;

    #[test]
    fn failing_sample_is_refused() {
        let text = "name = \"x\"\ntitle = \"X\"\n[[start]]\nregex = '^(?P<level>INFO) (?P<message>.*)$'\n[[sample]]\nline = \"INFO hello\"\nmessage = \"bye\"\n";
        let f = load_format("x.toml", text).unwrap();
        let e = check_samples(&f).unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("bye"), "{e}");
    }
}
