//! The tick journal: one append-only, bounded ring that every transport reads by cursor.
//!
//! Longer than the ~500 lines a file here aims at, on purpose: the ring, its cursor reads, the
//! publish-time frames and the per-symbol wake-ups share one lock and one invariant (a reader
//! woken for a seq finds it in the ring, framed); a third of the file is the tests of that.
//!
//! Each tick is encoded to JSON exactly once, when it is published, into a [`Bytes`] that every
//! transport and every client shares (a batch of ticks shares one allocation). Readers hold a
//! cursor (`seq`), never a queue: a slow reader costs the server nothing but its cursor, and when
//! its cursor falls behind the oldest retained tick it is told so with a [`Gap`] and continues
//! from the oldest one.
//!
//! Streams also get each tick already framed in their format ([`Framed`]): at publish time, for
//! every format that has an open stream, the tick is framed once into the same allocation as its
//! JSON, and [`Journal::read_framed`] hands out shared slices of it. A frame is kept as an HTTP/1.1
//! chunk ([`frames::chunk`](crate::frames::chunk)): a stream written straight to its socket gets
//! the whole chunk, one served by hyper the frame inside it. A tick published before any stream of
//! its format was open is framed on read instead (a backlog, off the common path).
//!
//! Waiting streams are woken per symbol ([`crate::wakeups`]): a publish wakes only the streams
//! that watch one of its symbols, so nobody polls in a loop and nobody scans for nothing.
//! Long-polls still wait on a [`watch`] channel carrying the next seq to be published.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use tickbench_wire::{Gap, Quote};
use tokio::sync::watch;

use crate::frames::Framed;
use crate::market::{RawTick, Universe};
use crate::wakeups::{Registration, Wakeups};

/// Most journal entries one [`Journal::read`] scans under the lock: bounds how long a reader
/// with a sparse watchlist can hold the lock. The caller sees `next` advanced and asks again.
pub const SCAN_MAX: usize = 65_536;

/// Regions of one entry's buffer: its JSON, then one per [`Framed`] format.
const REGIONS: usize = 1 + Framed::COUNT;

/// One retained tick: its JSON and its frames in one shared buffer.
#[derive(Debug, Clone)]
struct Entry {
    sym: u32,
    /// Region `r` is `buf[offs[r]..offs[r + 1]]`: 0 the JSON, `1 + f.index()` the tick framed in
    /// format `f` as an HTTP/1.1 chunk (empty when it was not framed at publish time).
    offs: [u32; REGIONS + 1],
    /// Length of each format's chunk header (the frame starts that far into its region, and ends
    /// 2 bytes, the CRLF, before the region does).
    hdr: [u8; Framed::COUNT],
    buf: Bytes,
}

impl Entry {
    fn region(&self, r: usize) -> Bytes {
        self.buf
            .slice(self.offs[r] as usize..self.offs[r + 1] as usize)
    }

    fn json(&self) -> Bytes {
        self.region(0)
    }

    fn json_len(&self) -> usize {
        (self.offs[1] - self.offs[0]) as usize
    }

    /// The tick framed in `f`, if it was at publish time: as an HTTP/1.1 chunk when `chunked`.
    fn framed(&self, f: Framed, chunked: bool) -> Option<Bytes> {
        let r = 1 + f.index();
        let (start, end) = (self.offs[r] as usize, self.offs[r + 1] as usize);
        if end == start {
            return None;
        }
        Some(if chunked {
            self.buf.slice(start..end)
        } else {
            self.buf
                .slice(start + self.hdr[f.index()] as usize..end - 2)
        })
    }

    fn json_slice(&self) -> &[u8] {
        &self.buf[self.offs[0] as usize..self.offs[1] as usize]
    }
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

/// What one [`Journal::read_framed`] found (the frames themselves went to the caller's queue).
#[derive(Debug, Default, Clone, Copy)]
pub struct FramedRead {
    /// Set when the requested cursor had fallen out of the journal.
    pub gap: Option<Gap>,
    /// Matching ticks queued.
    pub ticks: usize,
    /// Their total framed bytes.
    pub bytes: usize,
    /// One past the last seq scanned: the cursor to read from next.
    pub next: u64,
}

/// One tick as [`Journal::read_fanout`] hands it out.
#[derive(Debug, Clone)]
pub struct FanoutTick {
    pub seq: u64,
    pub sym: u32,
    /// The tick's frame as an HTTP/1.1 chunk.
    pub chunk: Bytes,
    /// The frame's length without the chunk framing (what a delivery counts as body bytes).
    pub len: usize,
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

    /// The ids it names, ascending (`None` = all).
    pub fn ids(&self) -> Option<Vec<u32>> {
        let bits = self.bits.as_ref()?;
        let mut ids = Vec::new();
        for (w, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let b = word.trailing_zeros();
                ids.push(w as u32 * 64 + b);
                word &= word - 1;
            }
        }
        Some(ids)
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
    /// Next seq to be published; long-polls `changed().await` on it.
    head: watch::Sender<u64>,
    /// Streams' wake-ups, by symbol.
    wakeups: Arc<Wakeups>,
    /// Open streams per [`Framed`] format: a format is framed at publish time while its count
    /// is not zero.
    in_use: [AtomicUsize; Framed::COUNT],
}

/// One open stream of a [`Framed`] format, counted while it lives (see [`Journal::use_framing`]).
#[derive(Debug)]
pub struct FramingUse {
    journal: Arc<Journal>,
    f: Framed,
}

impl Drop for FramingUse {
    fn drop(&mut self) {
        self.journal.in_use[self.f.index()].fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("retain", &self.retain)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
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
            wakeups: Arc::new(Wakeups::new(universe.len())),
            in_use: Default::default(),
        }
    }

    /// Registers a stream's wake-up for the symbols of `filter`: it is woken by every publish
    /// of one of them, and only by those, until the registration is dropped.
    pub fn register(&self, filter: &SymFilter) -> Registration {
        self.wakeups.register(filter.ids().as_deref())
    }

    /// Counts an open stream of format `f` until the returned guard drops: from now on every
    /// published tick is framed in `f` once, at publish time.
    pub fn use_framing(self: &Arc<Self>, f: Framed) -> FramingUse {
        self.in_use[f.index()].fetch_add(1, Ordering::Relaxed);
        FramingUse {
            journal: self.clone(),
            f,
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

    /// Appends ticks (their `seq`s must continue the journal), each framed once in every format
    /// with an open stream, and wakes the streams that watch their symbols.
    pub fn append(&self, ticks: &[Encoded]) {
        if ticks.is_empty() {
            return;
        }
        let formats: Vec<Framed> = Framed::ALL
            .into_iter()
            .filter(|f| self.in_use[f.index()].load(Ordering::Relaxed) > 0)
            .collect();
        // One allocation for the whole batch: every tick's JSON and frames, framed before the
        // lock is taken.
        let per_tick: usize = ticks.iter().map(|t| t.json.len()).sum::<usize>() / ticks.len();
        let mut buf = Vec::with_capacity(ticks.len() * (per_tick * (1 + formats.len()) + 200));
        let mut offs = Vec::with_capacity(ticks.len());
        let mut frame = Vec::new();
        for t in ticks {
            let start = buf.len();
            let mut o = [0u32; REGIONS + 1];
            let mut hdr = [0u8; Framed::COUNT];
            buf.extend_from_slice(&t.json);
            o[1] = (buf.len() - start) as u32;
            for (i, f) in Framed::ALL.into_iter().enumerate() {
                if formats.contains(&f) {
                    frame.clear();
                    f.tick(&mut frame, t.seq, &t.json);
                    hdr[i] = crate::frames::chunk(&mut buf, &frame) as u8;
                }
                o[i + 2] = (buf.len() - start) as u32;
            }
            offs.push((start, o, hdr));
        }
        let all = Bytes::from(buf);
        let mut syms: Vec<u32> = ticks.iter().map(|t| t.raw.sym).collect();
        syms.sort_unstable();
        syms.dedup();
        let next = {
            let mut g = self.inner.write().unwrap_or_else(|e| e.into_inner());
            for (i, t) in ticks.iter().enumerate() {
                debug_assert_eq!(t.seq, g.next);
                g.quotes[t.raw.sym as usize].apply(t.seq, t.sseq, t.ts, &t.raw);
                let (start, o, hdr) = offs[i];
                g.ring.push_back(Entry {
                    sym: t.raw.sym,
                    offs: o,
                    hdr,
                    buf: all.slice(start..start + o[REGIONS] as usize),
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
        self.wakeups.notify(syms);
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
        self.wakeups.notify_everyone();
    }

    /// Empties the ring and continues at `next`: an edge whose NATS stream no longer holds the
    /// ticks between its newest and `next` (see `feed::nats`). Readers behind `next` get the
    /// usual [`Gap`]; quotes keep their last values.
    pub fn restart_at(&self, next: u64) {
        {
            let mut g = self.inner.write().unwrap_or_else(|e| e.into_inner());
            g.ring.clear();
            g.first = next;
            g.next = next;
            self.next.store(next, Ordering::Release);
        }
        self.head.send_replace(next);
        self.wakeups.notify_everyone();
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
                out.bytes += e.json_len();
                out.ticks.push((seq - 1, e.json()));
                if out.ticks.len() >= max_ticks || out.bytes >= max_bytes {
                    break;
                }
            }
        }
        out.next = seq;
        out
    }

    /// Like [`Journal::read`], for a stream of format `f`: queues each matching tick's frame
    /// onto `out` (a shared slice of what was framed at publish time: no copy, no allocation
    /// once `out` has grown), each as an HTTP/1.1 chunk when `chunked`, and returns what it
    /// found (its byte count is of the frames, without chunk framing). Ticks published before
    /// any stream of `f` was open are framed here, several into one buffer (one chunk).
    #[allow(clippy::too_many_arguments)]
    pub fn read_framed(
        &self,
        since: u64,
        filter: &SymFilter,
        f: Framed,
        chunked: bool,
        max_ticks: usize,
        max_bytes: usize,
        out: &mut VecDeque<Bytes>,
    ) -> FramedRead {
        let g = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut res = FramedRead::default();
        let mut start = since.max(1);
        if since == 0 {
            start = g.first;
        } else if since < g.first {
            res.gap = Some(Gap {
                from: since,
                to: g.first - 1,
            });
            start = g.first;
        }
        let start = start.min(g.next);
        let offset = (start - g.first) as usize;
        let mut seq = start;
        // Ticks framed here, not at publish time: flushed as one chunk before the next shared one.
        let mut late: Vec<u8> = Vec::new();
        let flush_late = |late: &mut Vec<u8>, out: &mut VecDeque<Bytes>| {
            let body = std::mem::take(late);
            out.push_back(if chunked {
                crate::frames::chunk_bytes(&body)
            } else {
                body.into()
            });
        };
        for e in g.ring.range(offset..).take(SCAN_MAX) {
            seq += 1;
            if !filter.matches(e.sym) {
                continue;
            }
            match e.framed(f, chunked) {
                Some(b) => {
                    if !late.is_empty() {
                        flush_late(&mut late, out);
                    }
                    let hdr = if chunked {
                        e.hdr[f.index()] as usize + 2
                    } else {
                        0
                    };
                    res.bytes += b.len() - hdr;
                    out.push_back(b);
                }
                None => {
                    let before = late.len();
                    f.tick(&mut late, seq - 1, e.json_slice());
                    res.bytes += late.len() - before;
                }
            }
            res.ticks += 1;
            if res.ticks >= max_ticks || res.bytes >= max_bytes {
                break;
            }
        }
        if !late.is_empty() {
            flush_late(&mut late, out);
        }
        res.next = seq;
        res
    }

    /// For the fan-out writer ([`crate::fanout`]): every tick with `from <= seq < to` still
    /// retained (at most [`SCAN_MAX`]), each framed in `f` as an HTTP/1.1 chunk, appended to
    /// `out` in seq order (shared slices; a tick published before any stream of `f` was open is
    /// framed here). Returns the oldest retained seq, so the caller can tell a reader whose
    /// cursor fell out.
    pub fn read_fanout(&self, from: u64, to: u64, f: Framed, out: &mut Vec<FanoutTick>) -> u64 {
        let g = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let start = from.max(g.first).min(g.next);
        let offset = (start - g.first) as usize;
        let n = (to.min(g.next).saturating_sub(start) as usize).min(SCAN_MAX);
        for (i, e) in g.ring.range(offset..offset + n).enumerate() {
            let seq = start + i as u64;
            let (chunk, len) = match e.framed(f, true) {
                Some(b) => {
                    let len = b.len() - e.hdr[f.index()] as usize - 2;
                    (b, len)
                }
                None => {
                    let mut frame = Vec::new();
                    f.tick(&mut frame, seq, e.json_slice());
                    (crate::frames::chunk_bytes(&frame), frame.len())
                }
            };
            out.push(FanoutTick {
                seq,
                sym: e.sym,
                chunk,
                len,
            });
        }
        g.first
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

    fn tick(seq: u64, sym: u32) -> Encoded {
        let raw = RawTick {
            sym,
            bid_c: 100,
            ask_c: 102,
            last_c: 101,
            size: 1,
        };
        let mut buf = Vec::new();
        encode_tick(&mut buf, seq, seq, "S", &raw, seq);
        Encoded {
            seq,
            sseq: seq,
            ts: seq,
            raw,
            json: buf.into(),
        }
    }

    #[test]
    fn framed_reads_share_publish_time_frames_and_frame_the_rest_late() {
        let universe = Universe::new(4, 1);
        let journal = Arc::new(Journal::new(&universe, 3, 0));
        let sse = Framed::Sse;
        // Published before any SSE stream: framed on read.
        journal.append(&[tick(1, 0), tick(2, 1)]);
        let _use = journal.use_framing(sse);
        journal.append(&[tick(3, 0), tick(4, 0)]);
        let mut q = VecDeque::new();
        let all = SymFilter::all();
        let r = journal.read_framed(1, &all, sse, false, 100, usize::MAX, &mut q);
        // Retains 3: seq 1 fell out.
        assert_eq!(r.gap, Some(Gap { from: 1, to: 1 }));
        assert_eq!((r.ticks, r.next), (3, 5));
        let got: Vec<u8> = q.iter().flat_map(|b| b.to_vec()).collect();
        let mut want = Vec::new();
        for t in [tick(2, 1), tick(3, 0), tick(4, 0)] {
            sse.tick(&mut want, t.seq, &t.json);
        }
        assert_eq!(got, want);
        assert_eq!(r.bytes, want.len());
        // The late-framed tick is one chunk, the shared ones one each.
        assert_eq!(q.len(), 3);
        let shared = journal.inner.read().unwrap().ring[2]
            .framed(sse, false)
            .unwrap();
        assert_eq!(
            shared.as_ptr(),
            q[2].as_ptr(),
            "a slice of the journal's buffer, not a copy"
        );
        // A watchlist skips what it does not watch; JSON reads are unchanged.
        q.clear();
        let one = SymFilter::of(&[1], 4);
        let r = journal.read_framed(2, &one, sse, false, 100, usize::MAX, &mut q);
        assert_eq!((r.ticks, r.next, q.len()), (1, 5, 1));
        // The same read as HTTP/1.1 chunks: each frame in its chunk framing, the same byte count.
        let mut c = VecDeque::new();
        let r = journal.read_framed(1, &all, sse, true, 100, usize::MAX, &mut c);
        assert_eq!((r.ticks, r.bytes, c.len()), (3, want.len(), 3));
        let mut late = Vec::new();
        sse.tick(&mut late, 2, &tick(2, 1).json);
        let mut chunked = Vec::new();
        crate::frames::chunk(&mut chunked, &late);
        for t in [tick(3, 0), tick(4, 0)] {
            let mut one = Vec::new();
            sse.tick(&mut one, t.seq, &t.json);
            crate::frames::chunk(&mut chunked, &one);
        }
        let got: Vec<u8> = c.iter().flat_map(|b| b.to_vec()).collect();
        assert_eq!(got, chunked);
        assert_eq!(
            shared.as_ptr() as usize - c[2].as_ptr() as usize,
            c[2].len() - shared.len() - 2,
            "the chunk around the shared frame, in the same buffer"
        );
        assert_eq!(one.ids(), Some(vec![1]));
        let out = journal.read(3, &all, 100, usize::MAX);
        assert_eq!(out.ticks[0].1, tick(3, 0).json);
    }
}
