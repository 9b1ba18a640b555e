//! "Did you mean …?": the closest known word to a mistyped one, or none when nothing is close.
//!
//! The cut-off is relative to the words' length (a normalised Damerau-Levenshtein similarity), so a
//! three-letter typo is not "corrected" to an unrelated three-letter word (`cnt` is not `why`), while
//! one slip in a short word (`bb` for `b`, `hihg` for `high`) still finds it.

/// Similarity (0..1) at or above which a word counts as a likely typo of another.
const MIN_SIMILARITY: f64 = 0.6;

/// The option closest to `word`, when one is close enough to be what was meant.
pub fn nearest<'a>(word: &str, options: &[&'a str]) -> Option<&'a str> {
    let w = word.to_lowercase();
    options
        .iter()
        .filter(|o| !o.is_empty() && **o != word)
        .map(|o| {
            let ol = o.to_lowercase();
            let sim = strsim::normalized_damerau_levenshtein(&w, &ol);
            let dist = strsim::damerau_levenshtein(&w, &ol);
            // One edit in a word of two or more letters is a typo whatever the ratio says.
            let longest = w.chars().count().max(ol.chars().count());
            let close = sim >= MIN_SIMILARITY || (dist == 1 && longest >= 2);
            (close, sim, *o)
        })
        .filter(|(close, _, _)| *close)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(_, _, o)| o)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn typos_find_their_word() {
        let cmds = [
            "check",
            "timeline",
            "tui",
            "rules",
            "templates",
            "profile",
            "diff",
        ];
        assert_eq!(nearest("chek", &cmds), Some("check"));
        assert_eq!(nearest("timelime", &cmds), Some("timeline"));
        assert_eq!(nearest("CHECK", &cmds), Some("check"));
        assert_eq!(
            nearest("hihg", &["critical", "high", "medium"]),
            Some("high")
        );
        assert_eq!(nearest("bb", &["a", "b"]), Some("b"));
        assert_eq!(nearest("cnt", &["count", "why"]), Some("count"));
    }

    #[test]
    fn unrelated_words_get_no_suggestion() {
        assert_eq!(nearest("cnt", &["why", "level", "source", "message"]), None);
        assert_eq!(nearest("a", &["x"]), None);
        assert_eq!(nearest("samples", &["check", "timeline", "tui"]), None);
        assert_eq!(nearest("x", &[]), None);
    }
}
