//! A hit's captures: a few named values, kept sorted in one small vector. A `BTreeMap` holds its
//! first entry in a node of eleven slots (about 560 bytes), and a rule can hold tens of thousands of
//! hits at once: on a 100 MB run one rule's hits took 18 MB that way.

use std::sync::Arc;

/// Capture name → value, sorted by name, without spare room once built. Names are shared with the
/// pattern that captured them, and values take no spare room: a rule can hold a hit for every
/// message of a long run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caps(Vec<(Arc<str>, Box<str>)>);

impl Caps {
    fn find(&self, k: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| (**n).cmp(k))
    }

    /// The value of `k`.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.find(k)
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|(_, v)| &**v)
    }

    /// Set `k` to `v`, replacing what it held.
    pub fn insert(&mut self, k: Arc<str>, v: Box<str>) {
        match self.find(&k) {
            Ok(i) => {
                if let Some(slot) = self.0.get_mut(i) {
                    slot.1 = v;
                }
            }
            Err(i) => self.0.insert(i, (k, v)),
        }
    }

    /// Set `k` to `v` unless it holds a value already.
    pub fn insert_absent(&mut self, k: &str, v: &str) {
        if let Err(i) = self.find(k) {
            self.0.insert(i, (Arc::from(k), Box::from(v)));
        }
    }

    /// Names in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| &**k)
    }

    /// (name, value) pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    /// (name, value) pairs in name order, the name shared.
    pub fn entries(&self) -> impl Iterator<Item = (&Arc<str>, &str)> {
        self.0.iter().map(|(k, v)| (k, &**v))
    }

    /// Give back the room the vector reserved while it grew (hits are kept until their rule ends).
    pub fn shrink(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl Extend<(String, String)> for Caps {
    /// Insert each pair; a later value replaces an earlier one, as in a map.
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, it: I) {
        for (k, v) in it {
            self.insert(Arc::from(k), v.into_boxed_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Every operation agrees with a `BTreeMap` fed the same steps.
    #[test]
    fn behaves_as_a_sorted_map() {
        let mut c = Caps::default();
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        let steps = [("b", "1"), ("a", "2"), ("c", "3"), ("b", "4"), ("a", "5")];
        for (i, (k, v)) in steps.iter().enumerate() {
            if i % 2 == 0 {
                c.insert(Arc::from(*k), Box::from(*v));
                m.insert(k.to_string(), v.to_string());
            } else {
                c.insert_absent(k, v);
                m.entry(k.to_string()).or_insert_with(|| v.to_string());
            }
        }
        c.extend([
            ("d".to_string(), "6".to_string()),
            ("a".to_string(), "7".to_string()),
        ]);
        m.extend([
            ("d".to_string(), "6".to_string()),
            ("a".to_string(), "7".to_string()),
        ]);
        c.shrink();
        let got: Vec<(&str, &str)> = c.iter().collect();
        let want: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
        assert_eq!(c.keys().count(), 4);
        for k in ["a", "b", "c", "d", "e"] {
            assert_eq!(c.get(k), m.get(k).map(String::as_str), "{k}");
        }
    }
}
