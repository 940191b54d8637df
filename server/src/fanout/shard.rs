//! One shard of the fan-out writer: a task that, on every publish, writes the new ticks to each
//! stream parked with it, one `send` per stream, in one pass (see the parent module).

use std::io::IoSlice;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use tickbench_wire::Transport;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::slot::{Slot, SlotState};
use super::socket::RawSocket;
use crate::frames::Framed;
use crate::journal::{FanoutTick, Journal, SymFilter};
use crate::metrics::Metrics;

/// Most ticks one pass reads; a pass that stops short runs again at once (after yielding).
const MAX_PASS: u64 = 4_096;
/// Most frames one `sendmsg` takes as separate buffers; more (a burst) are copied into one.
const MAX_IOV: usize = 64;

/// A stream parked with a shard.
#[derive(Debug)]
pub struct Member {
    pub slot: Arc<Slot>,
    /// Its parking (see [`SlotState::Parked`]).
    pub parking: u64,
    pub socket: RawSocket,
    pub filter: SymFilter,
    pub format: Framed,
    pub transport: Transport,
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
) {
    let reg = journal.register(&SymFilter::all());
    let mut w = Writer {
        cursor: journal.next_seq(),
        members: Vec::new(),
        ticks: Default::default(),
        counts: [(0, 0); Transport::COUNT],
        returned: 0,
    };
    loop {
        // Cleared before the pass reads the head: a publish during the pass is seen below.
        reg.reset();
        if w.pass(&shard, &journal, &metrics) {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            _ = reg.notified() => {}
            _ = shard.wake.notified() => {}
        }
    }
}

struct Writer {
    /// The seq this shard's next pass starts at.
    cursor: u64,
    members: Vec<Member>,
    /// The pass's ticks, per format in use.
    ticks: [Vec<FanoutTick>; Framed::COUNT],
    /// Ticks and body bytes delivered in the pass, per transport.
    counts: [(u64, u64); Transport::COUNT],
    /// Members handed back in the pass.
    returned: u64,
}

impl Writer {
    /// Writes the ticks published since the last pass to every member; true when more are
    /// waiting than one pass reads.
    fn pass(&mut self, shard: &Shard, journal: &Journal, metrics: &Metrics) -> bool {
        self.members
            .append(&mut shard.incoming.lock().unwrap_or_else(|e| e.into_inner()));
        let head = journal.next_seq();
        let from = self.cursor;
        if self.members.is_empty() {
            self.cursor = head;
            return false;
        }
        let to = head.min(from + MAX_PASS);
        let mut used = [false; Framed::COUNT];
        for m in &self.members {
            used[m.format.index()] = true;
        }
        // Members whose cursor is below this are handed back: they read what they miss by
        // cursor themselves (a gap notice included, if it fell out of the journal).
        let mut floor = from;
        for f in Framed::ALL {
            let ticks = &mut self.ticks[f.index()];
            ticks.clear();
            if used[f.index()] && to > from {
                floor = floor.max(journal.read_fanout(from, to, f, ticks));
            }
        }
        let now = Instant::now();
        let Writer {
            members,
            ticks,
            counts,
            returned,
            ..
        } = self;
        let mut iov = Vec::with_capacity(MAX_IOV);
        members.retain(|m| serve(m, ticks, floor, to, now, &mut iov, counts, returned));
        self.cursor = to;
        let mut written = 0;
        for (t, c) in Transport::ALL.into_iter().zip(self.counts.iter_mut()) {
            if c.0 > 0 {
                metrics.delivered(t, c.0 as usize, c.1 as usize);
                written += c.0;
                *c = (0, 0);
            }
        }
        metrics.fanout_deliveries.fetch_add(written, Relaxed);
        metrics
            .fanout_returns
            .fetch_add(std::mem::take(&mut self.returned), Relaxed);
        to < head
    }
}

/// Writes `m`'s ticks of the pass; false when it leaves the shard (handed back, or gone).
#[allow(clippy::too_many_arguments)]
fn serve<'a>(
    m: &Member,
    ticks: &'a [Vec<FanoutTick>; Framed::COUNT],
    floor: u64,
    to: u64,
    now: Instant,
    iov: &mut Vec<IoSlice<'a>>,
    counts: &mut [(u64, u64); Transport::COUNT],
    returned: &mut u64,
) -> bool {
    let mut st = m.slot.lock();
    let (cursor, last) = match &mut *st {
        SlotState::Parked {
            parking,
            cursor,
            last,
        } if *parking == m.parking => (cursor, last),
        // Its stream came back, or parked again elsewhere: this entry is stale.
        _ => return false,
    };
    if *cursor < floor {
        *returned += 1;
        let (c, l) = (*cursor, *last);
        m.slot.give_back(&mut st, c, Bytes::new(), l);
        return false;
    }
    iov.clear();
    let (mut n, mut bytes, mut total) = (0, 0, 0);
    for t in &ticks[m.format.index()] {
        if t.seq >= *cursor && m.filter.matches(t.sym) {
            iov.push(IoSlice::new(&t.chunk));
            n += 1;
            bytes += t.len;
            total += t.chunk.len();
        }
    }
    *cursor = (*cursor).max(to);
    if iov.is_empty() {
        return true;
    }
    let c = &mut counts[m.transport.index()];
    c.0 += n;
    c.1 += bytes as u64;
    let sent = if iov.len() <= MAX_IOV {
        m.socket.send(iov)
    } else {
        let one: Vec<u8> = iov.iter().flat_map(|b| b.iter().copied()).collect();
        m.socket.send(&[IoSlice::new(&one)])
    };
    match sent {
        Ok(k) if k == total => {
            *last = Some(now);
            true
        }
        // The socket is full (or failed: the stream's own write finds out and closes): the
        // stream takes over, the unwritten rest first.
        Ok(k) => {
            *returned += 1;
            let l = if k > 0 { Some(now) } else { *last };
            let c = *cursor;
            m.slot.give_back(&mut st, c, rest(iov, k), l);
            false
        }
        Err(_) => {
            *returned += 1;
            let (c, l) = (*cursor, *last);
            m.slot.give_back(&mut st, c, rest(iov, 0), l);
            false
        }
    }
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
