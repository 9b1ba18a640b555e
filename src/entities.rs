//! Entities: the one shared set of extractors (from `parsers/entities.toml`) that finds CIDs, truncated
//! CIDs, lost CIDs, UUIDs, message-id prefixes, usernames, name bindings and `key=value` fields in any
//! record, whatever its format.

pub use crate::defs::Extractors;
use crate::intern::Interner;
use crate::memo::Recent;
use crate::model::{CidRef, Event, ThinVec};
use std::sync::Arc;

/// Longest text an extractor looks at in one record (stack traces can be huge and carry no ids).
const SCAN_LIMIT: usize = 8 * 1024;

/// The entities of messages seen lately, by their text ([`crate::memo`]), with the names they
/// share: the extractors are a fifth of a parse. One per thread.
#[derive(Default)]
pub struct Memo {
    seen: Recent<Found>,
    /// Usernames and field names, shared between the events that name the same one.
    pub shared: Interner,
}

/// What the extractors found in one message.
#[derive(Clone)]
struct Found {
    cids: ThinVec<CidRef>,
    uuids: ThinVec<String>,
    msgid_prefixes: ThinVec<String>,
    users: ThinVec<Arc<str>>,
    names: ThinVec<(Arc<str>, u64)>,
    fields: ThinVec<(Arc<str>, String)>,
}

impl Found {
    fn of(ev: &Event) -> Found {
        Found {
            cids: ev.cids.clone(),
            uuids: ev.uuids.clone(),
            msgid_prefixes: ev.msgid_prefixes.clone(),
            users: ev.users.clone(),
            names: ev.names.clone(),
            fields: ev.fields.clone(),
        }
    }

    fn give(&self, ev: &mut Event) {
        ev.cids = self.cids.clone();
        ev.uuids = self.uuids.clone();
        ev.msgid_prefixes = self.msgid_prefixes.clone();
        ev.users = self.users.clone();
        ev.names = self.names.clone();
        ev.fields = self.fields.clone();
    }
}

/// What an owner line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A CID, full or a truncated prefix.
    Cid(String),
    /// A username.
    Name(String),
}

/// Which extracting patterns may match a record: the set's answer for each, in the set's order, or
/// each pattern's own test where there is no set.
#[derive(Default)]
struct Gate {
    hits: Option<regex::SetMatches>,
    /// Number of the next pattern asked about.
    next: usize,
}

impl Gate {
    /// Pass over the next pattern (the caller tests it on another text).
    fn skip(&mut self) {
        self.next += 1;
    }

    /// Whether the next pattern, `r`, matches `text`.
    fn may(&mut self, r: &regex::Regex, text: &str) -> bool {
        let i = self.next;
        self.next += 1;
        match &self.hits {
            Some(h) => h.matched(i),
            None => r.is_match(text),
        }
    }

    /// The matches of the next pattern, `r`, in `text`, with their groups. Most extractors find
    /// nothing in most records: the no-capture test first costs no allocation, where a capture
    /// iterator allocates its slots on every step, the last, empty one included.
    fn captures<'r, 't>(
        &mut self,
        r: &'r regex::Regex,
        text: &'t str,
    ) -> impl Iterator<Item = regex::Captures<'t>> + use<'r, 't> {
        self.may(r, text)
            .then(|| r.captures_iter(text))
            .into_iter()
            .flatten()
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// `v` as a list with no spare room (none at all when empty).
fn exact<T>(v: Vec<T>) -> ThinVec<T> {
    v.into_iter().collect()
}

impl Extractors {
    /// Who a line says its source belongs to: a CID (full or truncated) or a username.
    pub fn owner(&self, message: &str) -> Option<Owner> {
        if self
            .owner_any
            .as_ref()
            .is_some_and(|any| !any.is_match(message))
        {
            return None;
        }
        for r in &self.owner {
            // Runs on every event of every tab: the no-capture test first (see `Gate::captures`).
            if let Some(c) = Gate::default().captures(r, message).next() {
                if let Some(v) = c.name("cid") {
                    return Some(Owner::Cid(v.as_str().to_string()));
                }
                if let Some(v) = c.name("name") {
                    return Some(Owner::Name(v.as_str().to_string()));
                }
            }
        }
        None
    }

    /// Fill an event's entities and fields from its text.
    pub fn apply(&self, ev: &mut Event) {
        self.apply_shared(ev, &mut Interner::default());
    }

    /// [`Extractors::apply_shared`], remembering what one-line messages gave in `memo`: a message
    /// seen lately gets what it gave then. Only a record whose text is its message and that carries
    /// no entities yet (a format's own captures) is remembered: then what it gets depends on its
    /// text alone.
    pub fn apply_memo(&self, ev: &mut Event, memo: &mut Memo) {
        let plain = ev.continuation.is_empty()
            && Recent::<Found>::fits(&ev.message)
            && ev.cids.is_empty()
            && ev.uuids.is_empty()
            && ev.msgid_prefixes.is_empty()
            && ev.users.is_empty()
            && ev.names.is_empty()
            && ev.fields.is_empty();
        if !plain {
            return self.apply_shared(ev, &mut memo.shared);
        }
        if let Some(found) = memo.seen.get(ev.message.as_str()) {
            return found.give(ev);
        }
        self.apply_shared(ev, &mut memo.shared);
        if memo.seen.put(&ev.message, Found::of(ev)) {
            // Started again: names too, so a long run's memory stays that of its recent lines.
            memo.shared = Interner::default();
        }
    }

    /// [`Extractors::apply`], with usernames and names shared through `shared` (a few distinct
    /// ones over millions of events). Each list gets exactly the room it needs: events live for the
    /// whole run, and lists grown a push at a time and then shrunk leave holes the allocator keeps.
    pub fn apply_shared(&self, ev: &mut Event, shared: &mut Interner) {
        let full;
        let text: &str = if ev.continuation.is_empty() {
            &ev.message
        } else {
            full = ev.full_text();
            &full
        };
        let mut end = text.len().min(SCAN_LIMIT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text[..end];
        // Fields look at the message line alone: the set's answer holds for them only when the
        // scanned text is that line.
        let whole_message = ev.continuation.is_empty() && text.len() == ev.message.len();
        let mut gate = Gate {
            hits: self.any.as_ref().map(|set| set.matches(text)),
            next: 0,
        };
        let mut cids: Vec<CidRef> = std::mem::take(&mut ev.cids).into_iter().collect();
        for r in &self.cid {
            for c in gate.captures(r, text) {
                let Some(m) = c.name("v") else { continue };
                let after = &text[m.end()..];
                let decimal = after.starts_with('.')
                    && after[1..].starts_with(|ch: char| ch.is_ascii_digit());
                if after.starts_with("...") || after.starts_with('…') || decimal {
                    continue;
                }
                if let Ok(v) = m.as_str().parse::<u64>() {
                    push_unique(&mut cids, CidRef::Full(v));
                }
            }
        }
        for r in &self.cid_prefix {
            for c in gate.captures(r, text) {
                if let Some(v) = c.name("v") {
                    push_unique(&mut cids, CidRef::Prefix(v.as_str().to_string()));
                }
            }
        }
        let mut lost = false;
        for r in &self.cid_lost {
            lost |= gate.may(r, text);
        }
        if lost {
            push_unique(&mut cids, CidRef::Lost);
        }
        let mut uuids: Vec<String> = std::mem::take(&mut ev.uuids).into_iter().collect();
        for r in &self.uuid {
            for c in gate.captures(r, text) {
                if let Some(v) = c.name("v") {
                    push_unique(&mut uuids, v.as_str().to_ascii_lowercase());
                }
            }
        }
        let mut prefixes: Vec<String> =
            std::mem::take(&mut ev.msgid_prefixes).into_iter().collect();
        for r in &self.msgid_prefix {
            for c in gate.captures(r, text) {
                if let Some(v) = c.name("v") {
                    push_unique(&mut prefixes, v.as_str().to_ascii_lowercase());
                }
            }
        }
        let mut users: Vec<Arc<str>> = std::mem::take(&mut ev.users).into_iter().collect();
        for r in &self.user {
            for c in gate.captures(r, text) {
                if let Some(v) = c.name("v") {
                    if !users.iter().any(|u| **u == *v.as_str()) {
                        users.push(shared.get(v.as_str()));
                    }
                }
            }
        }
        let mut names: Vec<(Arc<str>, u64)> = std::mem::take(&mut ev.names).into_iter().collect();
        for r in &self.alias {
            for c in gate.captures(r, text) {
                if let (Some(n), Some(cid)) = (
                    c.name("name"),
                    c.name("cid").and_then(|m| m.as_str().parse::<u64>().ok()),
                ) {
                    if !names.iter().any(|(k, v)| **k == *n.as_str() && *v == cid) {
                        names.push((shared.get(n.as_str()), cid));
                    }
                }
            }
        }
        // Fields only from the message line: continuation lines are payloads and frames.
        let mut fields: Vec<(Arc<str>, String)> =
            std::mem::take(&mut ev.fields).into_iter().collect();
        for r in &self.field {
            let found = if whole_message {
                gate.captures(r, &ev.message)
            } else {
                gate.skip();
                Gate::default().captures(r, &ev.message)
            };
            for c in found {
                if let (Some(k), Some(v)) = (c.name("k"), c.name("v")) {
                    if fields.iter().any(|(f, _)| **f == *k.as_str()) {
                        continue;
                    }
                    let v = v.as_str().trim_end_matches([',', '.']).trim_matches('"');
                    fields.push((shared.get(k.as_str()), v.to_string()));
                }
            }
        }
        ev.cids = exact(cids);
        ev.uuids = exact(uuids);
        ev.msgid_prefixes = exact(prefixes);
        ev.users = exact(users);
        ev.names = exact(names);
        ev.fields = exact(fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::Registry;

    /// The extractors a streamed first pass uses find the same CIDs, UUIDs and name bindings as the
    /// full set on every sample line (and real-log line when they are there), and none of the rest.
    #[test]
    fn correlation_extractors_find_what_correlation_needs() {
        let reg = Registry::load(None).unwrap();
        let light = reg.entities.for_correlation();
        let lines = crate::parse::record::tests::corpus_lines(&reg, &[]);
        let (mut shared, mut found) = (Interner::default(), 0);
        for l in &lines {
            let mut full = Event {
                message: l.clone(),
                ..Default::default()
            };
            let mut part = full.clone();
            reg.entities.apply_shared(&mut full, &mut shared);
            light.apply_shared(&mut part, &mut shared);
            assert_eq!(
                format!("{:?}", part.cids),
                format!("{:?}", full.cids),
                "{l:?}"
            );
            assert_eq!(part.uuids, full.uuids, "{l:?}");
            assert_eq!(
                format!("{:?}", part.names),
                format!("{:?}", full.names),
                "{l:?}"
            );
            assert!(
                part.users.is_empty() && part.fields.is_empty() && part.msgid_prefixes.is_empty()
            );
            found += full.cids.len() + full.uuids.len() + full.names.len();
        }
        assert!(found > 100, "{found} entities compared");
    }

    /// The set that gates extraction changes nothing: each record gets the entities and fields that
    /// trying every pattern alone gives, on every sample and real-log line, as a message and with
    /// continuation lines (where fields look at the message line only).
    #[test]
    fn the_extraction_set_finds_what_each_pattern_finds() {
        let reg = Registry::load(None).unwrap();
        let gated = &reg.entities;
        assert!(gated.any.is_some(), "the built-in patterns build one set");
        let mut alone = gated.clone();
        alone.any = None;
        let lines =
            crate::parse::record::tests::corpus_lines(&reg, &["user_id=7 cid=4926344781773734389"]);
        let (mut shared, mut found) = (Interner::default(), 0);
        for (i, l) in lines.iter().enumerate() {
            let mut a = Event {
                message: l.clone(),
                ..Default::default()
            };
            if i % 3 == 0 {
                // Fields come from the message line alone; the set saw the whole record.
                a.continuation = thin_vec::thin_vec![lines[(i + 1) % lines.len()].clone()];
            }
            let mut b = a.clone();
            gated.apply_shared(&mut a, &mut shared);
            alone.apply_shared(&mut b, &mut shared);
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{l:?}");
            found += a.cids.len() + a.uuids.len() + a.names.len() + a.fields.len() + a.users.len();
        }
        assert!(found > 100, "{found} entities compared");
    }

    /// A memo changes nothing: every corpus line, met again and again among others (some with
    /// continuation lines, some already carrying a format's captures), gets what extracting it anew
    /// gives, and the memo stays within its bound as it starts again.
    #[test]
    fn a_memo_gives_what_extraction_gives() {
        let reg = Registry::load(None).unwrap();
        let x = &reg.entities;
        let mut lines =
            crate::parse::record::tests::corpus_lines(&reg, &["user_id=7 cid=4926344781773734389"]);
        // Enough distinct lines that the memo starts again more than once.
        lines
            .extend((0..2 * crate::memo::ENTRIES).map(|i| format!("Session {i}0042 cid={i}77 ok")));
        let (mut memo, mut shared, mut found) = (Memo::default(), Interner::default(), 0);
        let mut hits = 0;
        for round in 0..3 {
            for (i, l) in lines.iter().enumerate() {
                // Each line again soon after it came, and again a round later.
                for again in [l, &lines[i.saturating_sub(7)]] {
                    let mut want = Event {
                        message: again.clone(),
                        ..Default::default()
                    };
                    match (i + round) % 11 {
                        0 => {
                            want.continuation =
                                thin_vec::thin_vec![lines[(i + 1) % lines.len()].clone()]
                        }
                        1 => want.cids = thin_vec::thin_vec![CidRef::Full(99)],
                        _ => {}
                    }
                    let mut got = want.clone();
                    hits += usize::from(memo.seen.get(again).is_some());
                    x.apply_shared(&mut want, &mut shared);
                    x.apply_memo(&mut got, &mut memo);
                    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{again:?}");
                    assert!(memo.seen.len() <= crate::memo::ENTRIES);
                    found += got.cids.len() + got.fields.len();
                }
            }
        }
        assert!(found > 1000, "{found} entities compared");
        assert!(hits > lines.len(), "{hits} memo hits");
    }

    /// The owner patterns as one set match exactly where one of them does, on every sample line (and
    /// real-log line when they are there), peeled and not.
    #[test]
    fn the_owner_set_matches_where_an_owner_pattern_does() {
        let reg = Registry::load(None).unwrap();
        let x = &reg.entities;
        let any = x
            .owner_any
            .as_ref()
            .expect("a set for the built-in owner patterns");
        let lines = crate::parse::record::tests::corpus_lines(&reg, &["getPeersForSession(12)"]);
        let mut owners = 0;
        for l in &lines {
            let want = x.owner.iter().any(|r| r.is_match(l));
            assert_eq!(any.is_match(l), want, "{l:?}");
            owners += usize::from(want);
        }
        assert!(owners > 0, "some lines are owner lines");
    }

    fn ev(msg: &str) -> Event {
        let reg = Registry::load(None).unwrap();
        let mut e = Event {
            message: msg.to_string(),
            ..Default::default()
        };
        reg.entities.apply(&mut e);
        e
    }

    #[test]
    fn every_cid_form() {
        let cases = [
            ("cid=4926344781773734389", 4926344781773734389u64),
            ("CID: 4926344781773734389", 4926344781773734389),
            ("peer_cid=13052662023604289317", 13052662023604289317),
            ("Client 11755351387031373186 rekey", 11755351387031373186),
            (
                "Session 6422049600014401439 for user x",
                6422049600014401439,
            ),
            ("peer Some(4926344781773734389)", 4926344781773734389),
            ("{cid: 4926344781773734389n}", 4926344781773734389),
            (
                "remaining [4398843767654670086, 705028106378368169]",
                705028106378368169,
            ),
        ];
        for (text, want) in cases {
            let e = ev(text);
            assert!(e.cids.contains(&CidRef::Full(want)), "{text}: {:?}", e.cids);
        }
        let e = ev("{cid: 2140228971562830034n 4926344781773734389n} 1767145425123456789.5 214022897156283003...");
        assert_eq!(
            e.cids,
            vec![
                CidRef::Full(2140228971562830034),
                CidRef::Full(4926344781773734389),
                CidRef::Prefix("214022897156283003".into())
            ]
        );
        let e = ev("Sending reliable P2P message from 2140228971562830034 to 4926344781773734389");
        assert_eq!(
            e.cids,
            vec![
                CidRef::Full(2140228971562830034),
                CidRef::Full(4926344781773734389)
            ]
        );
    }

    #[test]
    fn cids_on_lines_with_non_ascii_text() {
        let e = ev("⚠️ Session 13052662023604289317 für Bénédicte → peer=4926344781773734389 ✓");
        assert_eq!(
            e.full_cids().collect::<Vec<_>>(),
            [13052662023604289317, 4926344781773734389]
        );
        // Non-ASCII digits are not a CID (a u64 cannot hold them).
        let e = ev("cid=١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧");
        assert!(e.cids.is_empty(), "{:?}", e.cids);
        let e = ev("Connect failed for 21402289…, retry → 2");
        assert_eq!(e.cids.len(), 1);
    }

    #[test]
    fn no_cid_from_other_numbers() {
        let e = ev("Filesystem(\"/home/app/.citadel/152802578303337018145126615482762009524\") user alice_1767144257 at 1767145425123 ms msg_len=258");
        assert!(e.cids.is_empty(), "{:?}", e.cids);
    }

    #[test]
    fn truncated_and_lost() {
        let e = ev("P2PAutoConnect: Connect failed for 21402289..., retry in 1s (attempt 1)");
        assert_eq!(e.cids, vec![CidRef::Prefix("21402289".into())]);
        let e = ev("{messageId: 97d21b6a, messageType: text, senderCid: 214022897156...");
        assert!(e.cids.contains(&CidRef::Prefix("214022897156".into())));
        assert_eq!(e.msgid_prefixes, vec!["97d21b6a".to_string()]);
        let e = ev("[OrphanSessionsNavbar] Disconnecting session: undefined");
        assert_eq!(e.cids, vec![CidRef::Lost]);
    }

    /// Events live for the whole run: every list is exactly as long as what it holds, and a name
    /// seen on two events is one shared copy.
    #[test]
    fn lists_keep_no_spare_room_and_names_are_shared() {
        let reg = Registry::load(None).unwrap();
        let mut shared = Interner::default();
        let text = "GetSessions: Session 13052662023604289317 for user p2ptest1_1769211951 associated with connection fb7bee22-22ac-4c87-a71d-c1e5fd7412c2, cid=13052662023604289317";
        let mut evs: Vec<Event> = (0..2)
            .map(|_| Event {
                message: text.to_string(),
                fields: crate::model::thin_vec![(Arc::from("kept"), "1".to_string())],
                ..Default::default()
            })
            .collect();
        for e in &mut evs {
            reg.entities.apply_shared(e, &mut shared);
        }
        let e = &evs[0];
        assert_eq!(e.cids.capacity(), e.cids.len());
        assert_eq!(e.uuids.capacity(), e.uuids.len());
        assert_eq!(e.users.capacity(), e.users.len());
        assert_eq!(e.names.capacity(), e.names.len());
        assert_eq!(e.fields.capacity(), e.fields.len());
        assert_eq!(e.field("kept"), Some("1"), "fields a parser set stay first");
        assert_eq!(e.field("cid"), Some("13052662023604289317"));
        assert!(Arc::ptr_eq(&evs[0].users[0], &evs[1].users[0]));
        assert!(Arc::ptr_eq(&evs[0].names[0].0, &evs[1].names[0].0));
        assert_eq!(
            e.msgid_prefixes.capacity(),
            0,
            "an empty list allocates nothing"
        );
    }

    #[test]
    fn uuids_users_names_fields() {
        let e = ev("GetSessions: Session 13052662023604289317 for user p2ptest1_1769211951 associated with connection fb7bee22-22ac-4c87-a71d-c1e5fd7412c2");
        assert_eq!(
            e.uuids,
            vec!["fb7bee22-22ac-4c87-a71d-c1e5fd7412c2".to_string()]
        );
        assert_eq!(e.users, vec![Arc::<str>::from("p2ptest1_1769211951")]);
        assert_eq!(
            e.names,
            vec![(
                Arc::<str>::from("p2ptest1_1769211951"),
                13052662023604289317
            )]
        );
        let e = ev("alice_1767144257 (CID: 2140228971562830034) - Tab 0");
        assert_eq!(
            e.names,
            vec![(Arc::<str>::from("alice_1767144257"), 2140228971562830034)]
        );
        let e = ev("[ListAllPeers] Handling request for cid=4926344781773734389, request_id=97d21b6a-c372-47ee-be3f-fd8e4e59cd3e");
        assert_eq!(e.field("cid"), Some("4926344781773734389"));
        assert_eq!(
            e.field("request_id"),
            Some("97d21b6a-c372-47ee-be3f-fd8e4e59cd3e")
        );
        let e = ev("error=Queue handler signalled shutdown");
        assert_eq!(e.field("error"), Some("Queue handler signalled shutdown"));
    }
}
