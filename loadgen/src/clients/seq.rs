//! Per-client sequence checking: every delivered tick is compared with the last one this client
//! saw of the same symbol, by `sseq`, so loss, duplication and reordering are caught per symbol
//! even when the client watches only a few of them.

use std::collections::HashMap;

use tickbench_wire::Tick;

use super::SeqOutcome;

/// What the checker knows about one symbol.
#[derive(Debug)]
struct Entry {
    sym: Box<str>,
    /// Last delivered `sseq` (0 = none yet).
    last: u64,
    /// Every `sseq` in `contiguous_from..=last` was delivered: an older repeat inside that range is
    /// a duplicate, one below it may be a late (out-of-order) delivery of a missed tick.
    contiguous_from: u64,
    /// The next tick may jump ahead without counting as a gap: no baseline yet, or the server
    /// declared a gap since.
    rebase: bool,
}

/// Last `sseq` per symbol, in a `Vec` sorted by symbol: a watchlist is a handful of symbols, and a
/// sorted `Vec` is a fraction of a `HashMap`'s footprint at 10,000 clients.
#[derive(Debug, Default)]
pub struct SeqChecker {
    entries: Vec<Entry>,
}

impl SeqChecker {
    /// A checker whose baselines are set by the first tick of each symbol, except the symbols in
    /// `known` (a snapshot's `sseq` per symbol), which must continue exactly from there.
    pub fn new(known: Option<&HashMap<String, u64>>) -> Self {
        let mut entries: Vec<Entry> = known
            .into_iter()
            .flatten()
            .map(|(sym, &sseq)| Entry {
                sym: sym.as_str().into(),
                last: sseq,
                contiguous_from: sseq,
                rebase: false,
            })
            .collect();
        entries.sort_by(|a, b| a.sym.cmp(&b.sym));
        entries.shrink_to_fit();
        Self { entries }
    }

    /// Classifies `tick` and records it.
    pub fn check(&mut self, tick: &Tick) -> SeqOutcome {
        let i = match self
            .entries
            .binary_search_by(|e| (*e.sym).cmp(tick.sym.as_str()))
        {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(
                    i,
                    Entry {
                        sym: tick.sym.as_str().into(),
                        last: 0,
                        contiguous_from: 0,
                        rebase: true,
                    },
                );
                i
            }
        };
        let e = &mut self.entries[i];
        let s = tick.sseq;
        if s > e.last {
            let outcome = if s == e.last + 1 || e.rebase {
                if e.rebase {
                    e.contiguous_from = s;
                }
                SeqOutcome::InOrder
            } else {
                e.contiguous_from = s;
                SeqOutcome::Gap(s - e.last - 1)
            };
            e.last = s;
            e.rebase = false;
            outcome
        } else if s >= e.contiguous_from {
            SeqOutcome::Duplicate
        } else {
            SeqOutcome::OutOfOrder
        }
    }

    /// After a server gap notice: the next tick of every symbol sets a new baseline, so a loss the
    /// server declared is not counted again as a silent gap. (The notice gives a `seq` range, not
    /// the symbols in it, so every symbol is affected.)
    pub fn rebase_all(&mut self) {
        for e in &mut self.entries {
            e.rebase = true;
        }
    }

    /// Forgets everything (the server restarted: its `sseq`s start again from 1).
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::tick;
    use super::*;

    #[test]
    fn first_sight_sets_baseline_then_in_order() {
        let mut c = SeqChecker::new(None);
        assert_eq!(c.check(&tick(10, 5, "A")), SeqOutcome::InOrder);
        assert_eq!(c.check(&tick(11, 1, "B")), SeqOutcome::InOrder);
        assert_eq!(c.check(&tick(12, 6, "A")), SeqOutcome::InOrder);
        assert_eq!(c.check(&tick(13, 2, "B")), SeqOutcome::InOrder);
    }

    #[test]
    fn dropped_tick_is_a_gap_and_repeat_a_duplicate() {
        let mut c = SeqChecker::new(None);
        for s in 1..=3 {
            assert_eq!(c.check(&tick(s, s, "A")), SeqOutcome::InOrder);
        }
        // sseq 4 and 5 dropped.
        assert_eq!(c.check(&tick(6, 6, "A")), SeqOutcome::Gap(2));
        assert_eq!(c.check(&tick(6, 6, "A")), SeqOutcome::Duplicate);
        // 4 arrives late: below the contiguous run => out of order.
        assert_eq!(c.check(&tick(4, 4, "A")), SeqOutcome::OutOfOrder);
        assert_eq!(c.check(&tick(7, 7, "A")), SeqOutcome::InOrder);
        // A replay of 6 after 7 is a duplicate (6..=7 were delivered).
        assert_eq!(c.check(&tick(6, 6, "A")), SeqOutcome::Duplicate);
    }

    #[test]
    fn known_baseline_must_continue() {
        let known = HashMap::from([("A".to_string(), 10), ("B".to_string(), 0)]);
        let mut c = SeqChecker::new(Some(&known));
        assert_eq!(c.check(&tick(1, 12, "A")), SeqOutcome::Gap(1));
        assert_eq!(c.check(&tick(2, 1, "B")), SeqOutcome::InOrder);
        assert_eq!(c.check(&tick(3, 10, "A")), SeqOutcome::OutOfOrder);
    }

    #[test]
    fn declared_gap_rebases() {
        let mut c = SeqChecker::new(None);
        c.check(&tick(1, 1, "A"));
        c.check(&tick(2, 1, "B"));
        c.rebase_all();
        assert_eq!(c.check(&tick(50, 30, "A")), SeqOutcome::InOrder);
        assert_eq!(c.check(&tick(51, 31, "A")), SeqOutcome::InOrder);
        assert_eq!(c.check(&tick(52, 33, "A")), SeqOutcome::Gap(1));
        // A rebase still catches a repeat.
        c.rebase_all();
        assert_eq!(c.check(&tick(53, 1, "B")), SeqOutcome::Duplicate);
    }
}
