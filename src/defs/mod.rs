//! Defs: loading every data file of `parsers/` and `rules/` (built in, or a user's directory), with
//! `DefError` naming file, line and fix. Knows the model, nothing of parsing or correlation: the
//! definitions are compiled here and applied by `parse`, `entities` and `correlate`.

pub mod anchors;
pub mod builtin;
pub mod collectors;
pub mod entities;
pub mod format;
pub mod literals;
pub mod text;

pub use anchors::{AnchorDef, Relation};
pub use builtin::{builtin_parsers, builtin_rules};
pub use collectors::Collector;
pub use entities::Extractors;
pub use format::{Format, JsonPaths, Mode, Sample, StartPat};
pub use text::{compile, line_of, line_of_key, read_toml_dir, toml_error, DefError};

use std::path::Path;

/// Every loaded definition: formats, collectors, entity extractors, anchors. `Registry::load` (in
/// `parse::samples`) loads them and checks every format's samples through the parser.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Formats, highest priority first.
    pub formats: Vec<Format>,
    /// Collector prefixes.
    pub collectors: Vec<Collector>,
    /// Shared entity extractors.
    pub entities: Extractors,
    /// Cross-source anchor definitions.
    pub anchors: Vec<AnchorDef>,
}

impl Registry {
    /// The built-in definitions plus, when given, a user directory that adds or overrides (same `name`).
    /// `verify` sees each format as soon as it is loaded (the parser checks its samples), so the first
    /// error in file order is the one reported.
    pub fn load_with(
        extra: Option<&Path>,
        verify: &dyn Fn(&Format) -> Result<(), DefError>,
    ) -> Result<Registry, DefError> {
        let mut files: Vec<(String, String)> = builtin_parsers()
            .iter()
            .map(|(n, t)| (format!("<builtin>/parsers/{n}"), t.to_string()))
            .collect();
        if let Some(dir) = extra {
            for (path, base, text) in read_toml_dir(dir, "parsers")? {
                // A user file with a built-in's file name replaces it outright.
                files.retain(|(f, _)| !f.ends_with(&format!("/parsers/{base}")));
                files.push((path, text));
            }
        }
        let mut formats: Vec<Format> = Vec::new();
        let mut collectors = Vec::new();
        let mut entities = None;
        let mut anchors = Vec::new();
        for (file, text) in &files {
            let base = file.rsplit('/').next().unwrap_or(file);
            match base {
                "collectors.toml" => collectors.extend(collectors::load_collectors(file, text)?),
                "entities.toml" => entities = Some(Extractors::load(file, text)?),
                "anchors.toml" => anchors = anchors::load_anchors(file, text)?,
                _ => {
                    let f = format::load_format(file, text)?;
                    verify(&f)?;
                    formats.retain(|g| g.name != f.name);
                    formats.push(f);
                }
            }
        }
        formats.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.name.cmp(&b.name)));
        Ok(Registry {
            formats,
            collectors,
            entities: entities.unwrap_or_default(),
            anchors,
        })
    }

    /// A format by name.
    pub fn format(&self, name: &str) -> Option<&Format> {
        self.formats.iter().find(|f| f.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load() {
        let r = Registry::load_with(None, &|_| Ok(())).unwrap();
        assert!(r.format("citadel-tracing").is_some());
        assert!(!r.collectors.is_empty());
    }

    #[test]
    fn bad_regex_names_file_and_line() {
        let text = "name = \"x\"\ntitle = \"X\"\n[[start]]\nregex = '(unclosed'\n";
        let e = format::load_format("x.toml", text).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.to_string().starts_with("x.toml:4: invalid regex"), "{e}");
    }

    #[test]
    fn unknown_key_names_line() {
        let text = "name = \"x\"\ntitle = \"X\"\nstrat = []\n";
        let e = format::load_format("x.toml", text).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("strat"), "{e}");
    }

    #[test]
    fn roles_are_data() {
        let r = Registry::load_with(None, &|_| Ok(())).unwrap();
        let service: Vec<&str> = r
            .formats
            .iter()
            .filter(|f| f.role == crate::model::Role::Service)
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(service, vec!["citadel-tracing", "citadel-pasted"]);
        let text = "name = \"x\"\ntitle = \"X\"\nrole = \"server\"\nmode = \"single\"\n";
        let e = format::load_format("x.toml", text).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("unknown role"), "{e}");
    }

    #[test]
    fn the_cid_shape_is_data() {
        let r = Registry::load_with(None, &|_| Ok(())).unwrap();
        let shape = &r.entities.cid_shape;
        assert!(shape.is_full_digits("100000000000000"));
        assert!(!shape.is_full_digits("21402289"));
        assert!(shape.is_full(100_000_000_000_000));
        assert!(!shape.is_full(99_999_999_999_999));
        assert!(shape.is_capture("peer_cid") && !shape.is_capture("user"));
    }
}
