//! One shared copy of the strings that recur across millions of events (targets, locations,
//! usernames, names, field keys): a handful of distinct values, each kept once instead of once per
//! event.

use crate::hash::Set;
use std::sync::Arc;

/// Distinct strings kept shared; past this (hostile or unusual input where every line names a new
/// one) each event keeps its own copy, so the set cannot grow without bound.
const MAX_SHARED: usize = 16_384;

/// A bounded set of shared strings. One per thread: an `Arc` made on one thread and dropped on
/// another costs a locked free in the allocator.
#[derive(Default)]
pub struct Interner {
    set: Set<Arc<str>>,
}

impl Interner {
    /// The shared copy of `v`, added when there is room.
    pub fn get(&mut self, v: &str) -> Arc<str> {
        if let Some(s) = self.set.get(v) {
            return Arc::clone(s);
        }
        let s: Arc<str> = Arc::from(v);
        if self.set.len() < MAX_SHARED {
            self.set.insert(Arc::clone(&s));
        }
        s
    }

    /// The shared copy of `v` when there is one (or room for it), else `v` itself.
    pub fn share(&mut self, v: Arc<str>) -> Arc<str> {
        if let Some(s) = self.set.get(&v) {
            return Arc::clone(s);
        }
        if self.set.len() < MAX_SHARED {
            self.set.insert(Arc::clone(&v));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_copy_until_the_set_is_full() {
        let mut i = Interner::default();
        let a = i.get("citadel");
        let b = i.get("citadel");
        assert!(Arc::ptr_eq(&a, &b));
        let c = i.share(Arc::from("citadel"));
        assert!(Arc::ptr_eq(&a, &c));
        for n in 0..MAX_SHARED {
            i.get(&format!("t{n}"));
        }
        let x = i.get("late");
        let y = i.get("late");
        assert_eq!(x, y);
        assert!(!Arc::ptr_eq(&x, &y), "a full set keeps no more");
        assert!(
            Arc::ptr_eq(&a, &i.get("citadel")),
            "what it kept stays shared"
        );
    }
}
