//! What was computed from the messages seen lately, by their text.
//!
//! Logs repeat lines word for word: a poll lists the same sessions each time, a stress run sends
//! the same message a thousand times (23-94 % of the lines of the real logs repeat one of the 256
//! before them). Pure work on a message (its entities, its template's masked text, what a rule can
//! read of it) is done once per distinct recent message, and a repeated one takes a copy.

use crate::hash::Map;

/// Most messages a [`Recent`] remembers before it starts again.
pub const ENTRIES: usize = 1024;
/// Longest message a [`Recent`] remembers: longer ones are rare and would hold the memory.
pub const TEXT: usize = 1024;

/// Values computed from messages, for the last [`ENTRIES`] distinct ones at most (forgotten all
/// at once when full: cheaper than keeping an order, and a long run's memo stays that of its recent
/// lines). One per thread.
#[derive(Debug)]
pub struct Recent<V> {
    seen: Map<Box<str>, V>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent {
            seen: Map::default(),
        }
    }
}

impl<V> Recent<V> {
    /// Whether `text` may be remembered.
    pub fn fits(text: &str) -> bool {
        text.len() <= TEXT
    }

    /// What `text` gave, when it was seen lately.
    pub fn get(&self, text: &str) -> Option<&V> {
        self.seen.get(text)
    }

    /// Remember what `text` gave (nothing when it does not [`fit`](Recent::fits)). True when the
    /// memo was full and started again before: state shared by the values may be let go too.
    pub fn put(&mut self, text: &str, v: V) -> bool {
        if !Self::fits(text) {
            return false;
        }
        let full = self.seen.len() >= ENTRIES && !self.seen.contains_key(text);
        if full {
            self.seen.clear();
        }
        self.seen.insert(text.into(), v);
        full
    }

    /// How many messages are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_recent_short_messages_within_its_bound() {
        let mut m = Recent::default();
        assert!(!m.put("a", 1));
        assert_eq!(m.get("a"), Some(&1));
        assert!(!m.put(&"x".repeat(TEXT + 1), 2), "too long to remember");
        assert_eq!(m.get(&"x".repeat(TEXT + 1)), None);
        assert!(
            !m.put("a", 3),
            "a known message is replaced, not counted again"
        );
        assert_eq!((m.get("a"), m.len()), (Some(&3), 1));
        let mut restarts = 0;
        for i in 0..3 * ENTRIES {
            restarts += usize::from(m.put(&i.to_string(), i));
            assert!(m.len() <= ENTRIES);
            assert_eq!(
                m.get(&i.to_string()),
                Some(&i),
                "the last one is always there"
            );
        }
        assert_eq!(restarts, 3, "started again each time it was full");
        assert!(!m.is_empty());
    }
}
