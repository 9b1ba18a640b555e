//! Hash maps and sets for the per-line work: keyed by log text (messages, templates, UUIDs, CIDs)
//! and looked up several times per record. std's SipHash was about 3 % of a `check`'s CPU time;
//! foldhash is several times faster on short keys and, like std's, seeded at random per process, so
//! a hostile log cannot plan its collisions.

/// A hash map with the fast, randomly seeded hasher.
pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set with the fast, randomly seeded hasher.
pub type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
