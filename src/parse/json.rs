//! JSON-lines formats: walking the definition's dotted paths through a record.

use crate::defs::JsonPaths;
use serde_json::Value;
use std::borrow::Cow;

/// Walk a JSON path: `a.b`; `a[].b` joins array members with spaces; `x|y` tries alternatives, and
/// from the step where the first `|` stands, each alternative is a path of its own
/// (`a.value|preview.properties[].value|description`).
pub fn json_path<'v>(v: &'v Value, path: &str) -> Option<Cow<'v, str>> {
    fn scalar(v: &Value) -> Option<Cow<'_, str>> {
        match v {
            Value::String(s) => Some(Cow::Borrowed(s.as_str())),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            Value::Null => None,
            other => Some(Cow::Owned(other.to_string())),
        }
    }
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    if head.contains('|') {
        return path.split('|').find_map(|alt| json_path(v, alt));
    }
    if let Some(arr_key) = head.strip_suffix("[]") {
        let arr = v.get(arr_key)?.as_array()?;
        let parts: Vec<String> = arr
            .iter()
            .filter_map(|item| match rest {
                Some(r) => json_path(item, r).map(|c| c.into_owned()),
                None => scalar(item).map(|c| c.into_owned()),
            })
            .collect();
        return if parts.is_empty() {
            None
        } else {
            Some(Cow::Owned(parts.join(" ")))
        };
    }
    match rest {
        Some(r) => json_path(v.get(head)?, r),
        None => v.get(head).and_then(scalar),
    }
}

/// Whether a line is a JSON object with the format's required paths.
pub fn json_matches(j: &JsonPaths, line: &str) -> bool {
    let t = line.trim_start();
    if !t.starts_with('{') {
        return false;
    }
    match serde_json::from_str::<Value>(t) {
        Ok(v) => j.require.iter().all(|p| json_path(&v, p).is_some()),
        Err(_) => false,
    }
}
