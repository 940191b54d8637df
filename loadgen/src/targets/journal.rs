//! [`Journal`]: the ticks published to a peer so far, with the last id published on each channel;
//! the publisher appends, Pushpin's GRIP backend reads what a new or resuming subscriber needs and
//! the `prev-id` of each of its channels.
//!
//! One lock around both, so the backend's catch-up and its `prev-id`s describe the same moment: a
//! tick is in the journal (and its channel's last id moved) *before* it is published, so a
//! subscriber the backend answered either got it in its catch-up or holds the `prev-id` it follows.
//!
//! Ids are `<run>.<seq>` ([`Journal::id`]): Pushpin remembers a channel's last id (and drops an id
//! it saw in the last minute), so a second run against the same Pushpin must not reuse the first
//! run's ids. A channel's first tick of a run has no `prev-id` (`None`): Pushpin's sequencer would
//! hold an item whose `prev-id` it never saw for `message_wait` (5 s) before sending it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tickbench_wire::Gap;

use super::ALL_CHANNEL;

/// One published tick.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: u64,
    pub sym: Arc<str>,
    /// The tick's JSON, as published.
    pub json: Arc<str>,
}

/// What a subscriber of some channels gets from `since` on.
#[derive(Debug, Clone, Default)]
pub struct Catchup {
    /// Ticks at or after `since` on the channels, oldest first.
    pub ticks: Vec<Entry>,
    /// One past the newest tick appended: the cursor after the catch-up.
    pub next: u64,
    /// Each channel's last published seq (`None` before its first tick of this run).
    pub prev_ids: Vec<(String, Option<u64>)>,
    /// `since` was older than the oldest tick kept.
    pub gap: Option<Gap>,
}

#[derive(Debug, Default)]
struct Inner {
    ticks: VecDeque<Entry>,
    /// Last seq published per channel (symbol, or [`ALL_CHANNEL`]).
    last: HashMap<Arc<str>, u64>,
    /// The newest seq appended (0: none yet).
    head: u64,
}

/// Shared between the publisher and the GRIP backend.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Inner>,
    capacity: usize,
    /// This run's id prefix.
    run: u64,
}

impl Journal {
    /// A journal keeping the newest `capacity` ticks.
    pub fn new(capacity: usize) -> Arc<Journal> {
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        Arc::new(Journal {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            run,
        })
    }

    /// The GRIP id of `seq` in this run: `<run>.<seq>`.
    pub fn id(&self, seq: u64) -> String {
        format!("{}.{seq}", self.run)
    }

    /// The seq of one of this run's ids (`None`: another run's, or not an id).
    pub fn seq_of(&self, id: &str) -> Option<u64> {
        let (run, seq) = id.trim().split_once('.')?;
        (run.parse::<u64>().ok()? == self.run)
            .then(|| seq.parse().ok())
            .flatten()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a tick; returns the previous last seq of its symbol's channel and of
    /// [`ALL_CHANNEL`] (the `prev-id`s to publish it with; `None` for a channel's first tick).
    pub fn append(&self, seq: u64, sym: &str, json: Arc<str>) -> (Option<u64>, Option<u64>) {
        let mut j = self.lock();
        let sym: Arc<str> = match j.last.get_key_value(sym) {
            Some((k, _)) => k.clone(),
            None => Arc::from(sym),
        };
        let prev_sym = j.last.insert(sym.clone(), seq);
        let prev_all = j.last.insert(Arc::from(ALL_CHANNEL), seq);
        j.head = j.head.max(seq);
        j.ticks.push_back(Entry { seq, sym, json });
        while j.ticks.len() > self.capacity {
            j.ticks.pop_front();
        }
        (prev_sym, prev_all)
    }

    /// The newest seq appended (0 before any).
    pub fn head(&self) -> u64 {
        self.lock().head
    }

    /// What a subscriber of `channels` needs from `since` (`None`: from now, nothing to catch up).
    pub fn catchup(&self, channels: &[&str], since: Option<u64>) -> Catchup {
        let j = self.lock();
        let prev_ids = prev_ids(&j, channels);
        let next = j.head + 1;
        let Some(since) = since else {
            return Catchup {
                next,
                prev_ids,
                ..Catchup::default()
            };
        };
        let oldest = j.ticks.front().map_or(next, |e| e.seq);
        let gap = (since < oldest && j.head > 0 && since > 0).then(|| Gap {
            from: since,
            to: oldest - 1,
        });
        let all = channels.contains(&ALL_CHANNEL);
        let ticks = j
            .ticks
            .iter()
            .skip_while(|e| e.seq < since)
            .filter(|e| all || channels.contains(&&*e.sym))
            .cloned()
            .collect();
        Catchup {
            ticks,
            next,
            prev_ids,
            gap,
        }
    }

    /// Recovery after Pushpin saw a `prev-id` mismatch: for each of `channels` with a last id
    /// (`Grip-Last`), the ticks after it. A channel without one had no tick of this run when it
    /// was held, and the stream may have received some of its ticks since: nothing is re-sent.
    pub fn after(&self, channels: &[&str], last: &[(String, u64)]) -> Catchup {
        let j = self.lock();
        let from = last
            .iter()
            .map(|(_, id)| id + 1)
            .min()
            .unwrap_or(j.head + 1);
        let ticks = j
            .ticks
            .iter()
            .skip_while(|e| e.seq < from)
            .filter(|e| {
                last.iter()
                    .any(|(c, id)| e.seq > *id && (c == ALL_CHANNEL || **c == *e.sym))
            })
            .cloned()
            .collect();
        Catchup {
            ticks,
            next: j.head + 1,
            prev_ids: prev_ids(&j, channels),
            gap: None,
        }
    }
}

fn prev_ids(j: &Inner, channels: &[&str]) -> Vec<(String, Option<u64>)> {
    channels
        .iter()
        .map(|c| (c.to_string(), j.last.get(*c).copied()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catchup_and_recovery() {
        let j = Journal::new(3);
        assert_eq!(j.append(1, "A", "a1".into()), (None, None));
        assert_eq!(j.append(2, "B", "b1".into()), (None, Some(1)));
        assert_eq!(j.append(3, "A", "a2".into()), (Some(1), Some(2)));
        let now = j.catchup(&["A"], None);
        assert_eq!((now.ticks.len(), now.next), (0, 4));
        assert_eq!(now.prev_ids, vec![("A".to_string(), Some(3))]);
        assert_eq!(j.seq_of(&j.id(17)), Some(17));
        assert_eq!(j.seq_of("1.17"), None, "another run's id");
        let c = j.catchup(&["A"], Some(2));
        assert_eq!(c.ticks.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);
        j.append(4, "C", "c1".into());
        let c = j.catchup(&[ALL_CHANNEL], Some(1));
        assert_eq!(c.gap, Some(Gap { from: 1, to: 1 }));
        assert_eq!(c.ticks.len(), 3);
        let r = j.after(&["A", "C"], &[("A".into(), 1), ("C".into(), 0)]);
        assert_eq!(
            r.ticks.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![3, 4]
        );
        let r = j.after(&["A", "C"], &[("A".into(), 3)]);
        assert!(
            r.ticks.is_empty(),
            "a stream may have had C's ticks already"
        );
        assert_eq!(r.prev_ids.len(), 2, "every channel stays held");
        assert_eq!(j.head(), 4);
    }
}
