//! Per-client sequence checking: every delivered tick is compared with the last one this client
//! saw of the same symbol, by `sseq`, so loss, duplication and reordering are caught per symbol
//! even when the client watches only a few of them.

use std::collections::HashMap;

use tickbench_wire::Tick;

use super::sink::SeqOutcome;

/// What the checker knows about one symbol.
#[derive(Debug)]
struct Entry {
    /// [`key`] of the symbol: entries are found by comparing integers, not strings.
    key: Key,
    /// The symbol, kept only when it is too long for its key (a short one is its key).
    long: Option<Box<str>>,
    /// Last delivered `sseq` (0 = none yet).
    last: u64,
    /// Every `sseq` in `contiguous_from..=last` was delivered: an older repeat inside that range is
    /// a duplicate, one below it may be a late (out-of-order) delivery of a missed tick.
    contiguous_from: u64,
    /// The next tick may jump ahead without counting as a gap: no baseline yet, or the server
    /// declared a gap since.
    rebase: bool,
}

/// A symbol's bytes, up to 15, packed with its length into two integers (distinct symbols,
/// distinct keys); [`LONG`] for a longer one, which is then told apart by its string. Looking a
/// tick's symbol up is a few integer comparisons instead of string comparisons (`memcmp` calls
/// showed in the load generator's profile), and a short symbol needs no allocation of its own.
type Key = (u64, u64);
const LONG: Key = (0, 0);

fn key(sym: &str) -> Key {
    let b = sym.as_bytes();
    if b.len() > 15 {
        return LONG;
    }
    let mut k = [0u8; 16];
    k[..b.len()].copy_from_slice(b);
    k[15] = b.len() as u8;
    let (hi, lo) = k.split_at(8);
    (
        u64::from_be_bytes(hi.try_into().expect("8 bytes")),
        u64::from_be_bytes(lo.try_into().expect("8 bytes")),
    )
}

impl Entry {
    fn new(sym: &str, last: u64, rebase: bool) -> Self {
        let key = key(sym);
        Entry {
            key,
            long: (key == LONG).then(|| sym.into()),
            last,
            contiguous_from: last,
            rebase,
        }
    }

    /// The symbol when it is long (a short one is compared by its key alone).
    fn sym(&self) -> &str {
        self.long.as_deref().unwrap_or("")
    }
}

/// Last `sseq` per symbol: the entries in arrival order, found through a small open-addressing
/// table of their indices hashed by [`key`]. A lookup is about two cache lines (the table's slot
/// and the entry): with thousands of clients every checker is cold when its tick arrives, and
/// the binary search over a sorted `Vec` this replaces touched one line per step (nine for an
/// all-symbols watchlist), about a tenth of the load generator's CPU per delivery. Still a
/// fraction of a `HashMap`'s footprint: 4 bytes of table per entry on top of the entries.
#[derive(Debug, Default)]
pub struct SeqChecker {
    entries: Vec<Entry>,
    /// `index + 1` of an entry, 0 for an empty slot; a power of two at least twice as long as
    /// `entries` (empty until the first entry).
    table: Vec<u32>,
}

/// Where `key` starts probing in a table of `len` (a power of two) slots.
fn slot_of(key: Key, len: usize) -> usize {
    let h = (key.0 ^ key.1.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 32) as usize & (len - 1)
}

impl SeqChecker {
    /// A checker whose baselines are set by the first tick of each symbol, except the symbols in
    /// `known` (a snapshot's `sseq` per symbol), which must continue exactly from there.
    pub fn new(known: Option<&HashMap<String, u64>>) -> Self {
        let mut c = SeqChecker::default();
        for (sym, &sseq) in known.into_iter().flatten() {
            c.insert(Entry::new(sym, sseq, false));
        }
        c.entries.shrink_to_fit();
        c
    }

    /// The index of `sym`'s entry (`key` is its [`key`]), or the empty slot where it would go.
    fn find(&self, key: Key, sym: &str) -> Result<usize, usize> {
        let mask = self.table.len().wrapping_sub(1);
        let mut i = slot_of(key, self.table.len().max(1));
        loop {
            match self.table.get(i) {
                None => return Err(usize::MAX),
                Some(0) => return Err(i),
                Some(&n) => {
                    let e = &self.entries[n as usize - 1];
                    if e.key == key && (key != LONG || e.sym() == sym) {
                        return Ok(n as usize - 1);
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds an entry for a symbol not seen yet; returns its index.
    fn insert(&mut self, e: Entry) -> usize {
        if (self.entries.len() + 1) * 2 > self.table.len() {
            let len = ((self.entries.len() + 1) * 2).next_power_of_two().max(8);
            self.table = vec![0; len];
            for (n, old) in self.entries.iter().enumerate() {
                let mut i = slot_of(old.key, len);
                while self.table[i] != 0 {
                    i = (i + 1) & (len - 1);
                }
                self.table[i] = n as u32 + 1;
            }
        }
        let mut i = slot_of(e.key, self.table.len());
        while self.table[i] != 0 {
            i = (i + 1) & (self.table.len() - 1);
        }
        self.entries.push(e);
        self.table[i] = self.entries.len() as u32;
        self.entries.len() - 1
    }

    /// Classifies `tick` and records it.
    pub fn check(&mut self, tick: &Tick) -> SeqOutcome {
        let k = key(&tick.sym);
        let i = match self.find(k, &tick.sym) {
            Ok(i) => i,
            Err(_) => self.insert(Entry::new(&tick.sym, 0, true)),
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
        self.table.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::tick;
    use super::*;

    #[test]
    fn thousands_of_symbols_short_and_long_are_each_tracked_alone() {
        let syms: Vec<String> = (0..3000)
            .map(|i| match i % 3 {
                0 => format!("S{i}"),
                1 => format!("A_VERY_LONG_SYMBOL_NAME_{i}"),
                _ => format!("A_VERY_LONG_SYMBOL_NAME_{i}x"),
            })
            .collect();
        let known: HashMap<String, u64> = syms[..10].iter().map(|s| (s.clone(), 7)).collect();
        let mut c = SeqChecker::new(Some(&known));
        let mut seq = 0;
        for round in 1..=3u64 {
            for (n, s) in syms.iter().enumerate() {
                seq += 1;
                let sseq = if n < 10 { 7 + round } else { round };
                assert_eq!(c.check(&tick(seq, sseq, s)), SeqOutcome::InOrder, "{s}");
            }
        }
        assert_eq!(
            c.check(&tick(seq + 1, 3, &syms[2000])),
            SeqOutcome::Duplicate
        );
        assert_eq!(c.check(&tick(seq + 2, 5, &syms[2001])), SeqOutcome::Gap(1));
        assert_eq!(c.check(&tick(seq + 3, 4, &syms[30])), SeqOutcome::InOrder);
        c.reset();
        assert_eq!(c.check(&tick(seq + 4, 1, &syms[3])), SeqOutcome::InOrder);
    }

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

    /// Symbols that share a prefix, a length, or (over 15 bytes) the key are told apart.
    #[test]
    fn similar_and_long_symbols_are_distinct() {
        let syms = [
            "",
            "A",
            "AA",
            "AB",
            "BRK.B",
            "BRK.A",
            "ABCDEFGHIJKLMNO",
            "ABCDEFGHIJKLMNOP",
            "ABCDEFGHIJKLMNOQ",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ];
        let known: HashMap<String, u64> = syms.iter().map(|s| (s.to_string(), 5)).collect();
        let mut c = SeqChecker::new(Some(&known));
        for (i, s) in syms.iter().enumerate() {
            assert_eq!(c.check(&tick(i as u64, 6, s)), SeqOutcome::InOrder, "{s}");
        }
        for s in syms.iter().rev() {
            assert_eq!(c.check(&tick(0, 6, s)), SeqOutcome::Duplicate, "{s}");
            assert_eq!(c.check(&tick(0, 7, s)), SeqOutcome::InOrder, "{s}");
        }
        assert_eq!(c.entries.len(), syms.len());
        // A new symbol first seen among them is its own baseline.
        assert_eq!(
            c.check(&tick(0, 40, "ABCDEFGHIJKLMNOPZ")),
            SeqOutcome::InOrder
        );
        assert_eq!(
            c.check(&tick(0, 42, "ABCDEFGHIJKLMNOPZ")),
            SeqOutcome::Gap(1)
        );
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
