//! The tick journal: one append-only, bounded ring that every transport reads by cursor.
//!
//! Each tick is encoded to JSON exactly once, when it is published, into a [`Bytes`] that every
//! transport and every client shares (a batch of ticks shares one allocation). Readers hold a
//! cursor (`seq`), never a queue: a slow reader costs the server nothing but its cursor, and when
//! its cursor falls behind the oldest retained tick it is told so with a [`Gap`] and continues
//! from the oldest one. Waiting readers are woken through a [`watch`] channel carrying the next
//! seq to be published, so nobody polls in a loop.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use bytes::Bytes;
use tickbench_wire::{Gap, Quote};
use tokio::sync::watch;

use crate::market::{RawTick, Universe};

/// Most journal entries one [`Journal::read`] scans under the lock: bounds how long a reader
/// with a sparse watchlist can hold the lock. The caller sees `next` advanced and asks again.
pub const SCAN_MAX: usize = 65_536;

/// One retained tick.
#[derive(Debug, Clone)]
struct Entry {
    sym: u32,
    json: Bytes,
}

/// One tick ready for the journal: its raw values plus its encoded JSON.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub seq: u64,
    pub sseq: u64,
    pub ts: u64,
    pub raw: RawTick,
    pub json: Bytes,
}

/// Latest state of one symbol, in cents.
#[derive(Debug, Clone, Copy)]
struct QuoteState {
    bid_c: u64,
    ask_c: u64,
    last_c: u64,
    open_c: u64,
    high_c: u64,
    low_c: u64,
    volume: u64,
    seq: u64,
    sseq: u64,
    ts: u64,
}

impl QuoteState {
    fn apply(&mut self, seq: u64, sseq: u64, ts: u64, raw: &RawTick) {
        self.bid_c = raw.bid_c;
        self.ask_c = raw.ask_c;
        self.last_c = raw.last_c;
        self.high_c = self.high_c.max(raw.last_c);
        self.low_c = self.low_c.min(raw.last_c);
        self.volume += u64::from(raw.size);
        self.seq = seq;
        self.sseq = sseq;
        self.ts = ts;
    }
}

struct Inner {
    ring: VecDeque<Entry>,
    /// Seq of `ring[0]` (equals `next` when the ring is empty).
    first: u64,
    /// Seq the next published tick gets.
    next: u64,
    /// Kept under the same lock as the ring, so a snapshot's `next` is consistent with its quotes.
    quotes: Vec<QuoteState>,
}

/// What one read found.
#[derive(Debug, Default)]
pub struct ReadOut {
    /// Set when the requested cursor had fallen out of the journal.
    pub gap: Option<Gap>,
    /// `(seq, json)` of the matching ticks, in seq order.
    pub ticks: Vec<(u64, Bytes)>,
    /// Total JSON bytes of `ticks`.
    pub bytes: usize,
    /// One past the last seq scanned: the cursor to read from next.
    pub next: u64,
}

/// Which symbols a reader wants: a bitset over symbol ids (`None` = all), so the per-tick test
/// is one shift and mask.
#[derive(Debug, Clone, Default)]
pub struct SymFilter {
    bits: Option<Box<[u64]>>,
}

impl SymFilter {
    pub fn all() -> SymFilter {
        SymFilter { bits: None }
    }

    pub fn of(ids: &[u32], universe_len: usize) -> SymFilter {
        let mut bits = vec![0u64; universe_len.div_ceil(64)].into_boxed_slice();
        for &id in ids {
            bits[id as usize / 64] |= 1 << (id % 64);
        }
        SymFilter { bits: Some(bits) }
    }

    #[inline]
    pub fn matches(&self, sym: u32) -> bool {
        match &self.bits {
            None => true,
            Some(b) => b
                .get(sym as usize / 64)
                .is_some_and(|w| w & (1 << (sym % 64)) != 0),
        }
    }
}

/// The journal; see the module docs.
pub struct Journal {
    /// A std lock, not tokio's: nothing is awaited while it is held and critical sections are
    /// short (an append, or a bounded scan).
    inner: RwLock<Inner>,
    retain: usize,
    /// Mirror of `Inner::next` for lock-free "from now" cursors.
    next: AtomicU64,
    /// Next seq to be published; readers `changed().await` on it.
    head: watch::Sender<u64>,
}

impl Journal {
    pub fn new(universe: &Universe, retain: usize, start_ts: u64) -> Journal {
        let quotes = universe
            .symbols
            .iter()
            .map(|s| {
                let last_c = (s.start_price * 100.0).round() as u64;
                let half = ((last_c as f64 * s.spread / 2.0).round() as u64).max(1);
                QuoteState {
                    bid_c: last_c.saturating_sub(half),
                    ask_c: last_c + half,
                    last_c,
                    open_c: last_c,
                    high_c: last_c,
                    low_c: last_c,
                    volume: 0,
                    seq: 0,
                    sseq: 0,
                    ts: start_ts,
                }
            })
            .collect();
        let (head, _) = watch::channel(1);
        Journal {
            inner: RwLock::new(Inner {
                ring: VecDeque::new(),
                first: 1,
                next: 1,
                quotes,
            }),
            retain,
            next: AtomicU64::new(1),
            head,
        }
    }

    /// The seq the next published tick will get (so `next_seq() - 1` is the newest).
    pub fn next_seq(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }

    /// Seq of the oldest retained tick (equals `next_seq()` when the journal is empty).
    pub fn first_seq(&self) -> u64 {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).first
    }

    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .ring
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn retain(&self) -> usize {
        self.retain
    }

    /// A receiver of the head seq; `changed()` fires after every publish.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Appends ticks (their `seq`s must continue the journal) and wakes every waiting reader once.
    pub fn append(&self, ticks: &[Encoded]) {
        if ticks.is_empty() {
            return;
        }
        let next = {
            let mut g = self.inner.write().unwrap_or_else(|e| e.into_inner());
            for t in ticks {
                debug_assert_eq!(t.seq, g.next);
                g.quotes[t.raw.sym as usize].apply(t.seq, t.sseq, t.ts, &t.raw);
                g.ring.push_back(Entry {
                    sym: t.raw.sym,
                    json: t.json.clone(),
                });
                g.next = t.seq + 1;
            }
            let excess = g.ring.len().saturating_sub(self.retain);
            if excess > 0 {
                g.ring.drain(..excess);
                g.first += excess as u64;
            }
            self.next.store(g.next, Ordering::Release);
            g.next
        };
        self.head.send_replace(next);
    }

    /// Accounts for ticks that are never retained: a restart's replay of ticks older than the
    /// retained window (see `generator::replay`). Quotes (high, low, volume) and the
    /// cursors move as if the ticks had been appended and then evicted. Only valid while the
    /// ring is empty, i.e. before the first [`Journal::append`].
    pub fn skip(&self, ticks: &[(u64, u64, u64, RawTick)]) {
        let Some(&(last, ..)) = ticks.last() else {
            return;
        };
        let next = {
            let mut g = self.inner.write().unwrap_or_else(|e| e.into_inner());
            debug_assert!(g.ring.is_empty());
            for (seq, sseq, ts, raw) in ticks {
                debug_assert_eq!(*seq, g.next);
                g.quotes[raw.sym as usize].apply(*seq, *sseq, *ts, raw);
                g.next = seq + 1;
            }
            g.first = last + 1;
            self.next.store(g.next, Ordering::Release);
            g.next
        };
        self.head.send_replace(next);
    }

    /// Reads matching ticks with `seq >= since` (0 = the oldest retained), at most `max_ticks`
    /// of them and about `max_bytes` of JSON, scanning at most [`SCAN_MAX`] entries.
    pub fn read(
        &self,
        since: u64,
        filter: &SymFilter,
        max_ticks: usize,
        max_bytes: usize,
    ) -> ReadOut {
        let g = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut out = ReadOut::default();
        let mut start = since.max(1);
        if since == 0 {
            start = g.first;
        } else if since < g.first {
            out.gap = Some(Gap {
                from: since,
                to: g.first - 1,
            });
            start = g.first;
        }
        let start = start.min(g.next);
        let offset = (start - g.first) as usize;
        let mut seq = start;
        for e in g.ring.range(offset..).take(SCAN_MAX) {
            seq += 1;
            if filter.matches(e.sym) {
                out.bytes += e.json.len();
                out.ticks.push((seq - 1, e.json.clone()));
                if out.ticks.len() >= max_ticks || out.bytes >= max_bytes {
                    break;
                }
            }
        }
        out.next = seq;
        out
    }

    /// Latest quotes of `ids` (all when `None`) and the cursor consistent with them.
    pub fn snapshot(&self, universe: &Universe, ids: Option<&[u32]>) -> (u64, Vec<Quote>) {
        let g = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let quotes = match ids {
            Some(ids) => ids
                .iter()
                .map(|&i| quote(universe, i, &g.quotes[i as usize]))
                .collect(),
            None => (0..universe.len() as u32)
                .map(|i| quote(universe, i, &g.quotes[i as usize]))
                .collect(),
        };
        (g.next, quotes)
    }

    /// Latest quote of one symbol.
    pub fn quote(&self, universe: &Universe, id: u32) -> Quote {
        let g = self.inner.read().unwrap_or_else(|e| e.into_inner());
        quote(universe, id, &g.quotes[id as usize])
    }
}

fn cents(c: u64) -> f64 {
    c as f64 / 100.0
}

fn quote(universe: &Universe, id: u32, q: &QuoteState) -> Quote {
    Quote {
        sym: universe.name(id).to_string(),
        bid: cents(q.bid_c),
        ask: cents(q.ask_c),
        last: cents(q.last_c),
        open: cents(q.open_c),
        high: cents(q.high_c),
        low: cents(q.low_c),
        volume: q.volume,
        seq: q.seq,
        sseq: q.sseq,
        ts: q.ts,
    }
}

/// Appends a tick's JSON to `buf`, prices with exactly two decimals:
/// `{"seq":1042,"sseq":77,"sym":"AAPL","bid":189.21,"ask":189.23,"last":189.22,"size":300,"ts":...}`.
pub fn encode_tick(buf: &mut Vec<u8>, seq: u64, sseq: u64, sym: &str, raw: &RawTick, ts: u64) {
    // Symbol names are generated from [A-Z.] only, so they need no JSON escaping.
    let _ = write!(
        buf,
        r#"{{"seq":{seq},"sseq":{sseq},"sym":"{sym}","bid":{}.{:02},"ask":{}.{:02},"last":{}.{:02},"size":{},"ts":{ts}}}"#,
        raw.bid_c / 100,
        raw.bid_c % 100,
        raw.ask_c / 100,
        raw.ask_c % 100,
        raw.last_c / 100,
        raw.last_c % 100,
        raw.size,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_protocol_example() {
        let raw = RawTick {
            sym: 0,
            bid_c: 18921,
            ask_c: 18923,
            last_c: 18920,
            size: 300,
        };
        let mut buf = Vec::new();
        encode_tick(&mut buf, 1042, 77, "AAPL", &raw, 1795397385123456);
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(
            s,
            r#"{"seq":1042,"sseq":77,"sym":"AAPL","bid":189.21,"ask":189.23,"last":189.20,"size":300,"ts":1795397385123456}"#
        );
        let t: tickbench_wire::Tick = serde_json::from_str(&s).unwrap();
        assert_eq!(t.last, 189.2);
    }
}
