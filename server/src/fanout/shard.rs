//! One shard of the fan-out writer: a task that, on every publish, writes the new ticks to each
//! stream parked with it, one `send` per stream, in one pass (see the parent module).

use std::io::IoSlice;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tickbench_wire::{now_micros, Control, Transport};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::slot::{Inner, Slot, SlotState};
use super::socket::send;
use crate::frames::{self, Framed};
use crate::journal::{FanoutTick, Journal, SymFilter};
use crate::metrics::Metrics;

/// Most ticks one pass reads; a pass that stops short runs again at once (after yielding).
const MAX_PASS: u64 = 4_096;
/// Every this many passes, members with nothing to write are checked too, so the entries of
/// streams that came back or ended are dropped even if their symbols stay quiet.
const SWEEP_EVERY: u64 = 64;
/// Most frames one `sendmsg` takes as separate buffers; more (a burst) are copied into one.
const MAX_IOV: usize = 64;

/// A stream parked with a shard.
#[derive(Debug)]
pub struct Member {
    pub slot: Arc<Slot>,
    /// Its parking (see [`SlotState::Parked`]).
    pub parking: u64,
    pub watch: Watch,
    pub format: Framed,
    pub transport: Transport,
    /// Every tick before this was written or is not watched (the shard's own copy; set at
    /// parking to the stream's cursor).
    pub cursor: u64,
    /// When the shard last wrote to it (or it parked): its heartbeat counts from here.
    pub last: Instant,
}

/// Most symbols a watchlist may have to be tested inline ([`Watch::Few`]).
const FEW: usize = 6;

/// A member's watchlist as a pass tests it. Every pass tests every member (a bit test, no lock),
/// so the test must read only the member's own memory, which a pass scans in order: a
/// watchlist of a few symbols is kept inline. A bitset behind a pointer (the journal's
/// [`SymFilter`]) was a cache miss per member per pass: at `--watch 1` and 400 ticks/s, a
/// third more CPU per delivery than at `--watch all` for the same deliveries.
#[derive(Debug, Clone)]
pub enum Watch {
    All,
    Few { ids: [u32; FEW], n: u8 },
    Many(SymFilter),
}

impl Member {
    /// Whether this entry is its stream's current parking (the slot's lock held as `inner`);
    /// if not, the stream came back or parked again elsewhere, and the entry is stale.
    fn current(&self, inner: &Inner) -> bool {
        matches!(inner.turn, SlotState::Parked { parking } if parking == self.parking)
    }
}

impl Watch {
    pub fn of(filter: &SymFilter) -> Watch {
        match filter.ids() {
            None => Watch::All,
            Some(v) if v.len() <= FEW => {
                let mut ids = [0; FEW];
                ids[..v.len()].copy_from_slice(&v);
                Watch::Few {
                    ids,
                    n: v.len() as u8,
                }
            }
            Some(_) => Watch::Many(filter.clone()),
        }
    }

    #[inline]
    fn matches(&self, sym: u32) -> bool {
        match self {
            Watch::All => true,
            Watch::Few { ids, n } => ids[..usize::from(*n)].contains(&sym),
            Watch::Many(f) => f.matches(sym),
        }
    }
}

/// What the server and a shard's task share.
#[derive(Debug, Default)]
pub struct Shard {
    /// Streams parked since the last pass.
    pub incoming: Mutex<Vec<Member>>,
    /// Woken by a parking, so a stream that parked behind the shard is served without waiting
    /// for the next publish.
    pub wake: Notify,
}

/// The shard's task: a pass after every publish, until shutdown.
pub async fn run(
    shard: Arc<Shard>,
    journal: Arc<Journal>,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
    heartbeat: Duration,
) {
    let reg = journal.register(&SymFilter::all());
    let mut w = Writer {
        cursor: journal.next_seq(),
        members: Vec::new(),
        ticks: Default::default(),
        used: [0; Framed::COUNT],
        tally: Tally::default(),
        passes: 0,
        heartbeat,
    };
    // Heartbeats are looked for this often (so one is sent between 1 and 1.25 heartbeat
    // intervals after a stream's last write), with or without publishes.
    let mut beats = tokio::time::interval((heartbeat / 4).max(Duration::from_millis(10)));
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut all, mut beat) = (true, false);
    loop {
        // Cleared before the pass reads the head: a publish during the pass is seen below.
        reg.reset();
        if w.pass(&shard, &journal, &metrics, all, beat) {
            tokio::task::yield_now().await;
            continue;
        }
        (all, beat) = tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            _ = reg.notified() => (true, false),
            _ = beats.tick() => (true, true),
            // Only new members to look at, unless a publish came meanwhile.
            _ = shard.wake.notified() => (false, false),
        };
    }
}

struct Writer {
    /// The seq this shard's next pass starts at.
    cursor: u64,
    members: Vec<Member>,
    /// The pass's ticks, per format in use.
    ticks: [Vec<FanoutTick>; Framed::COUNT],
    /// Members per format (a format without members is not read).
    used: [usize; Framed::COUNT],
    tally: Tally,
    /// Passes so far (every [`SWEEP_EVERY`]th drops stale entries).
    passes: u64,
    /// A member without a write for this long gets a heartbeat.
    heartbeat: Duration,
}

impl Writer {
    /// Writes the ticks published since the last pass to every member; true when more are
    /// waiting than one pass reads.
    /// `all`: every member (after a publish, or to look for heartbeats); otherwise only the
    /// members that arrived since the last pass, if nothing was published meanwhile (a parking
    /// costs the shard nothing per other member).
    /// `beat`: also send heartbeats that are due (only on the heartbeat timer's passes, so a
    /// pass for a publish costs no clock arithmetic per member).
    fn pass(
        &mut self,
        shard: &Shard,
        journal: &Journal,
        metrics: &Metrics,
        all: bool,
        beat: bool,
    ) -> bool {
        let old = self.members.len();
        self.members
            .append(&mut shard.incoming.lock().unwrap_or_else(|e| e.into_inner()));
        for m in &self.members[old..] {
            self.used[m.format.index()] += 1;
        }
        let head = journal.next_seq();
        let from = self.cursor;
        if self.members.is_empty() {
            self.cursor = head;
            return false;
        }
        let to = head.min(from + MAX_PASS);
        let first = if all || to > from { 0 } else { old };
        // Members whose cursor is below this are handed back: they read what they miss by
        // cursor themselves (a gap notice included, if it fell out of the journal).
        let mut floor = from;
        for f in Framed::ALL {
            let ticks = &mut self.ticks[f.index()];
            ticks.clear();
            if self.used[f.index()] > 0 && to > from {
                floor = floor.max(journal.read_fanout(from, to, f, ticks));
            }
        }
        self.passes += 1;
        let pass = Pass {
            ticks: &self.ticks,
            floor,
            to,
            now: Instant::now(),
            sweep: self.passes.is_multiple_of(SWEEP_EVERY),
            heartbeat: beat.then_some(self.heartbeat),
        };
        let mut iov = Vec::with_capacity(MAX_IOV);
        let (tally, used) = (&mut self.tally, &mut self.used);
        let mut i = 0;
        self.members.retain_mut(|m| {
            i += 1;
            let keep = i <= first || serve(m, &pass, &mut iov, tally);
            if !keep {
                used[m.format.index()] -= 1;
            }
            keep
        });
        self.cursor = to;
        let mut written = 0;
        for (t, c) in Transport::ALL.into_iter().zip(self.tally.counts.iter_mut()) {
            if *c != (0, 0) {
                metrics.delivered(t, c.0 as usize, c.1 as usize);
                written += c.0;
                *c = (0, 0);
            }
        }
        metrics.fanout_deliveries.fetch_add(written, Relaxed);
        metrics
            .fanout_returns
            .fetch_add(std::mem::take(&mut self.tally.returned), Relaxed);
        to < head
    }
}

/// One pass's ticks and bounds, as every member's write sees them.
struct Pass<'a> {
    ticks: &'a [Vec<FanoutTick>; Framed::COUNT],
    /// Members whose cursor is below this are handed back.
    floor: u64,
    /// One past the pass's last tick.
    to: u64,
    now: Instant,
    /// Also drop stale entries of members with nothing to write (see [`SWEEP_EVERY`]).
    sweep: bool,
    /// Set on the heartbeat timer's passes: members quiet this long get a heartbeat.
    heartbeat: Option<Duration>,
}

/// What a pass did, for the metrics.
#[derive(Default)]
struct Tally {
    /// Ticks and body bytes delivered, per transport.
    counts: [(u64, u64); Transport::COUNT],
    /// Members handed back.
    returned: u64,
}

/// Writes `m`'s ticks of the pass; false when it leaves the shard (handed back, or gone). The
/// slot is locked only for a member with something to write (or to hand back): a pass for a
/// tick of one symbol costs the members that do not watch it a bit test each.
fn serve<'a>(
    m: &mut Member,
    pass: &Pass<'a>,
    iov: &mut Vec<IoSlice<'a>>,
    tally: &mut Tally,
) -> bool {
    if m.cursor < pass.floor {
        let mut st = m.slot.lock();
        if m.current(&st) {
            tally.returned += 1;
            m.slot.give_back(&mut st, m.cursor, Bytes::new(), m.last);
        }
        return false;
    }
    iov.clear();
    let (mut n, mut bytes, mut total) = (0, 0, 0);
    for t in &pass.ticks[m.format.index()] {
        if t.seq >= m.cursor && m.watch.matches(t.sym) {
            iov.push(IoSlice::new(&t.chunk));
            n += 1;
            bytes += t.len;
            total += t.chunk.len();
        }
    }
    m.cursor = m.cursor.max(pass.to);
    // A stream with nothing to write for a heartbeat interval gets a heartbeat from the shard,
    // as it would from its own task (which would otherwise take itself back for each one).
    let due = pass
        .heartbeat
        .is_some_and(|hb| pass.now.duration_since(m.last) >= hb);
    let beat = (iov.is_empty() && due).then(|| {
        let b = m.format.control_bytes(&Control::Heartbeat(now_micros()));
        (frames::chunk_bytes(&b), b.len())
    });
    if iov.is_empty() && beat.is_none() && !pass.sweep {
        return true;
    }
    let mut st = m.slot.lock();
    if !m.current(&st) {
        return false;
    }
    let fd = st.fd();
    if let Some((chunk, len)) = &beat {
        let sent = send(fd, &[IoSlice::new(chunk)]);
        tally.counts[m.transport.index()].1 += *len as u64;
        if !matches!(sent, Ok(k) if k == chunk.len()) {
            tally.returned += 1;
            let rest = chunk.slice(sent.unwrap_or(0).min(chunk.len())..);
            m.slot.give_back(&mut st, m.cursor, rest, m.last);
            return false;
        }
        m.last = pass.now;
        return true;
    }
    if iov.is_empty() {
        return true;
    }
    let c = &mut tally.counts[m.transport.index()];
    c.0 += n;
    c.1 += bytes as u64;
    let sent = if iov.len() <= MAX_IOV {
        send(fd, iov)
    } else {
        let one: Vec<u8> = iov.iter().flat_map(|b| b.iter().copied()).collect();
        send(fd, &[IoSlice::new(&one)])
    };
    // The socket full (or failed: the stream's own write finds out and closes): the stream
    // takes over, the unwritten rest first.
    let k = sent.unwrap_or(0);
    if k > 0 {
        m.last = pass.now;
    }
    if k == total {
        return true;
    }
    tally.returned += 1;
    m.slot.give_back(&mut st, m.cursor, rest(iov, k), m.last);
    false
}

/// The bytes of `bufs` after the first `skip`.
fn rest(bufs: &[IoSlice<'_>], mut skip: usize) -> Bytes {
    let mut out = Vec::new();
    for b in bufs {
        if skip >= b.len() {
            skip -= b.len();
            continue;
        }
        out.extend_from_slice(&b[skip..]);
        skip = 0;
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchlists_match_inline_or_by_bitset() {
        let few = Watch::of(&SymFilter::of(&[3, 70], 100));
        assert!(matches!(few, Watch::Few { n: 2, .. }));
        assert!(few.matches(3) && few.matches(70) && !few.matches(0) && !few.matches(4));
        let many = Watch::of(&SymFilter::of(&[1, 2, 3, 4, 5, 6, 99], 100));
        assert!(matches!(many, Watch::Many(_)));
        assert!(many.matches(99) && !many.matches(98));
        assert!(Watch::of(&SymFilter::all()).matches(12_345));
    }

    #[test]
    fn the_rest_starts_mid_buffer() {
        let bufs = [
            IoSlice::new(b"abc"),
            IoSlice::new(b"de"),
            IoSlice::new(b"f"),
        ];
        assert_eq!(&rest(&bufs, 0)[..], b"abcdef");
        assert_eq!(&rest(&bufs, 4)[..], b"ef");
        assert_eq!(&rest(&bufs, 3)[..], b"def");
        assert!(rest(&bufs, 6).is_empty());
    }
}
