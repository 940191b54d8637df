//! [`FramedFeed`]: the body of an HTTP stream whose format is framed once per tick at publish
//! time (NDJSON, SSE, multipart, iframe): it follows the journal by cursor exactly like
//! [`super::feed`], but what it yields are the journal's shared frames, one body chunk per tick.
//!
//! The common path of a delivery is: the publish wakes the task (only streams watching the
//! tick's symbol are woken), one journal read under the shared read lock queues the frames of
//! every pending tick into the stream's own queue (reused: no allocation once it has grown), and
//! each frame is handed on as a [`Bytes`] clone: no formatting, allocation or exclusive lock per
//! delivery. On an HTTP/1.1 connection that writes the stream itself (`crate::direct`, see
//! [`ConnCtl::writes_chunks`]) the frames are the journal's pre-encoded HTTP/1.1 chunks and a
//! delivery is one `write`; under hyper (HTTP/2, a later request of a kept-alive connection) they
//! are the bare frames, which hyper frames itself. Gap notices, heartbeats and `bye` are framed
//! when they happen; a read that finds a backlog joins its frames into one chunk (see
//! [`SHARED_MAX`]).
//!
//! On a plain HTTP/1.1 connection written by `crate::direct`, a stream that stands at the head
//! with everything written parks itself with the fan-out writer (`crate::fanout`): publishes
//! then wake no task of the stream, a shard writes its ticks, and the stream takes over again
//! (by cursor, with what the shard could not write first) when its socket fills, for `bye`, or
//! when it ends; its heartbeats are the shard's meanwhile.
//!
//! A hand-written [`Stream`] rather than an `async` block: the heartbeat timer and the shutdown
//! future are created once per stream, not once per wait, and a wait is a flag check.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tickbench_wire::{now_micros, Control, Transport};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::delivery;
use super::feed::{CHUNK_BYTES, CHUNK_TICKS};
use crate::conn::{Conn, ConnCtl};
use crate::fanout::{Member, Slot, SlotState, Watch};
use crate::frames::{self, Framed};
use crate::journal::{FramingUse, SymFilter};
use crate::metrics::OpenGuard;
use crate::state::AppState;
use crate::wakeups::Registration;

/// Most frames one read hands to hyper as separate body chunks. A read that finds more (a
/// stream catching up on a backlog) copies them into one chunk instead: hyper flushes after 16
/// queued buffers and writes a chunk header per chunk, so a backlog sent frame by frame would
/// take a write per 16 ticks, where one copy per read lets it write up to a chunk's worth
/// ([`CHUNK_BYTES`]) at once. The fan-out case, a tick or two per wake-up, never copies.
const SHARED_MAX: usize = 4;

/// Where a stream stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Too far behind: the connection task resets the socket and drops this body. Nothing more
    /// is sent and the body does not end (see `feed`: a `bye` or a clean end would only queue
    /// behind the data the reset discards).
    Cut,
    /// `bye` was sent.
    Done,
}

/// One stream's body; see the module docs.
pub struct FramedFeed {
    state: Arc<AppState>,
    transport: Transport,
    format: Framed,
    /// What the response starts with, until sent.
    preamble: Option<Bytes>,
    cursor: u64,
    filter: SymFilter,
    wait: Registration,
    /// Frames read but not yet handed to hyper.
    queue: VecDeque<Bytes>,
    /// When the next heartbeat is due; moved on every delivery, applied to `sleep` lazily.
    heartbeat_at: Instant,
    sleep: Pin<Box<Sleep>>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The connection, told when the stream stands at the journal head.
    conn: Option<Arc<ConnCtl>>,
    /// Every body chunk is an HTTP/1.1 chunk, for a connection that writes it as it is
    /// ([`ConnCtl::writes_chunks`]); the frames come from the journal in that form.
    chunked: bool,
    /// It returned `Pending` while standing at the head.
    waiting: bool,
    /// Set when the stream may be parked with the fan-out writer (`crate::fanout`).
    park: Option<Parking>,
    phase: Phase,
    _open: OpenGuard,
    _framing: FramingUse,
}

/// A stream's side of the fan-out writer (`crate::fanout`).
struct Parking {
    /// The connection's.
    slot: Arc<Slot>,
    /// Parkings so far; the current one's number while parked.
    count: u64,
    parked: bool,
}

impl Drop for FramedFeed {
    fn drop(&mut self) {
        if let Some(p) = &self.park {
            // Before the connection closes the socket: no shard writes for this stream again.
            p.slot.lock().turn = SlotState::Own;
        }
        if let Some(c) = &self.conn {
            c.stream_ended();
        }
    }
}

impl FramedFeed {
    /// A stream of `transport` (framed in `format`) following the journal from `since`.
    pub fn new(
        state: Arc<AppState>,
        since: u64,
        filter: SymFilter,
        transport: Transport,
        format: Framed,
        conn: Conn,
    ) -> FramedFeed {
        let conn = conn.map(|c| c.0);
        if let Some(c) = &conn {
            c.stream_started(transport);
        }
        let chunked = conn.as_ref().is_some_and(|c| c.writes_chunks());
        let mut pre = Vec::new();
        format.preamble(&mut pre);
        if chunked && !pre.is_empty() {
            pre = frames::chunk_bytes(&pre).into();
        }
        let heartbeat_at = Instant::now() + state.config.heartbeat;
        let park = conn
            .as_ref()
            .and_then(|c| c.fanout_slot())
            .filter(|_| chunked && state.fanout.enabled())
            .map(|slot| Parking {
                slot: slot.clone(),
                count: 0,
                parked: false,
            });
        FramedFeed {
            park,
            preamble: (!pre.is_empty()).then(|| pre.into()),
            cursor: since,
            wait: state.journal.register(&filter),
            filter,
            queue: VecDeque::new(),
            heartbeat_at,
            sleep: Box::pin(tokio::time::sleep_until(heartbeat_at)),
            cancelled: Box::pin(state.cancel.clone().cancelled_owned()),
            conn,
            chunked,
            waiting: false,
            phase: Phase::Running,
            _open: OpenGuard::new(state.metrics.clone(), transport),
            _framing: state.journal.use_framing(format),
            transport,
            format,
            state,
        }
    }

    fn caught_up(&self) {
        if let Some(c) = &self.conn {
            c.caught_up();
        }
    }

    /// Whether its body chunks are HTTP/1.1 chunks (see [`crate::conn::PreChunked`]).
    pub fn is_chunked(&self) -> bool {
        self.chunked
    }

    /// A control frame, counted as body bytes (without chunk framing).
    fn control(&mut self, c: &Control) -> Bytes {
        let b = self.format.control_bytes(c);
        delivery::count_bytes(&self.state, self.transport, b.len());
        if self.chunked {
            frames::chunk_bytes(&b)
        } else {
            b
        }
    }

    fn bye(&mut self) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.phase = Phase::Done;
        Poll::Ready(Some(Ok(self.control(&Control::bye()))))
    }

    /// Parks the stream with the fan-out writer if it may be: it stands at the head with
    /// everything before `cursor` written (the connection polls the body only once it has
    /// written what the body gave it).
    fn try_park(&mut self) -> bool {
        let Some(p) = self.park.as_mut() else {
            return false;
        };
        p.count += 1;
        p.parked = true;
        let member = Member {
            slot: p.slot.clone(),
            parking: p.count,
            watch: Watch::of(&self.filter),
            format: self.format,
            transport: self.transport,
            cursor: self.cursor,
            last: std::time::Instant::now(),
        };
        let s = &self.state;
        s.fanout.park(member, &s.journal, &s.metrics, &s.cancel);
        true
    }

    /// While parked: `Pending` as long as the shard writes for the stream (its ticks and
    /// heartbeats); `Ready` once the stream is its own again (handed back, with what the shard
    /// could not write, or taken back for `bye`), with its cursor where the shard left it.
    fn poll_parked(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let Some(p) = self.park.as_mut() else {
            return Poll::Ready(None);
        };
        let slot = p.slot.clone();
        let mut st = slot.watch(cx);
        let (cursor, last, leftover) = match std::mem::take(&mut st.turn) {
            SlotState::Returned {
                cursor,
                leftover,
                last,
            } => (cursor, Some(last), leftover),
            SlotState::Parked { parking } => {
                // Its heartbeats are the shard's meanwhile: only shutdown takes it back (for
                // `bye`, so where the shard left its cursor does not matter).
                let take_back =
                    self.state.cancel.is_cancelled() || self.cancelled.as_mut().poll(cx).is_ready();
                if !take_back {
                    st.turn = SlotState::Parked { parking };
                    return Poll::Pending;
                }
                (self.cursor, None, Bytes::new())
            }
            SlotState::Own => (self.cursor, None, Bytes::new()),
        };
        drop(st);
        if let Some(p) = self.park.as_mut() {
            p.parked = false;
        }
        // It stood at the head until now; from here `--max-behind` counts (a reader that stopped
        // leaves the stream holding the shard's rest, unwritten, and is reset in time).
        self.caught_up();
        self.cursor = cursor;
        if let Some(l) = last {
            let due = Instant::from_std(l) + self.state.config.heartbeat;
            self.heartbeat_at = self.heartbeat_at.max(due);
        }
        Poll::Ready((!leftover.is_empty()).then_some(leftover))
    }

    fn parked(&self) -> bool {
        self.park.as_ref().is_some_and(|p| p.parked)
    }

    /// Ready when the heartbeat is due (the timer is re-armed lazily to `heartbeat_at`).
    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.sleep.deadline() < self.heartbeat_at {
                let at = self.heartbeat_at;
                self.sleep.as_mut().reset(at);
            }
            match self.sleep.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if self.sleep.deadline() >= self.heartbeat_at => {
                    return Poll::Ready(())
                }
                Poll::Ready(()) => continue,
            }
        }
    }
}

impl Stream for FramedFeed {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(p) = this.preamble.take() {
            return Poll::Ready(Some(Ok(p)));
        }
        match this.phase {
            Phase::Running => {}
            Phase::Cut => return Poll::Pending,
            Phase::Done => return Poll::Ready(None),
        }
        if this.parked() {
            match this.poll_parked(cx) {
                Poll::Pending => return Poll::Pending,
                // What the shard could not write goes first (already counted).
                Poll::Ready(Some(b)) => return Poll::Ready(Some(Ok(b))),
                Poll::Ready(None) => {}
            }
        }
        // The common path: a frame already read.
        if let Some(b) = this.queue.pop_front() {
            return Poll::Ready(Some(Ok(b)));
        }
        if let Some(c) = &this.conn {
            if c.cut_if_behind(this.state.config.stream_max_behind, &this.state.metrics) {
                this.phase = Phase::Cut;
                return Poll::Pending;
            }
        }
        if std::mem::take(&mut this.waiting) {
            // It stood at the head until now.
            this.caught_up();
        }
        loop {
            if this.state.cancel.is_cancelled() {
                return this.bye();
            }
            // Clear the wake-up *before* reading, so a publish racing with the read still
            // makes `poll_notified` below ready.
            this.wait.reset();
            let journal = &this.state.journal;
            let r = journal.read_framed(
                this.cursor,
                &this.filter,
                this.format,
                this.chunked,
                CHUNK_TICKS,
                CHUNK_BYTES,
                &mut this.queue,
            );
            this.cursor = r.next;
            let head = journal.next_seq();
            if this.cursor >= head {
                this.caught_up();
            }
            if r.gap.is_some() || r.ticks > 0 {
                this.heartbeat_at = Instant::now() + this.state.config.heartbeat;
                delivery::count_framed(&this.state, this.transport, &r);
                if this.queue.len() > SHARED_MAX {
                    let len = this.queue.iter().map(Bytes::len).sum();
                    let mut one = Vec::with_capacity(len);
                    for b in this.queue.drain(..) {
                        one.extend_from_slice(&b);
                    }
                    this.queue.push_back(one.into());
                }
                if let Some(g) = r.gap {
                    return Poll::Ready(Some(Ok(this.control(&Control::Gap(g)))));
                }
                if let Some(b) = this.queue.pop_front() {
                    return Poll::Ready(Some(Ok(b)));
                }
            }
            if this.cursor < head {
                // The scan was capped (sparse watchlist): keep going, but let others run.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if let Some(c) = &this.conn {
                c.waiting();
            }
            if this.cancelled.as_mut().poll(cx).is_ready() {
                return this.bye();
            }
            if this.poll_heartbeat(cx).is_ready() {
                this.heartbeat_at = Instant::now() + this.state.config.heartbeat;
                this.caught_up();
                return Poll::Ready(Some(Ok(this.control(&Control::Heartbeat(now_micros())))));
            }
            // At the head with everything written: the fan-out writer takes over, so a publish
            // wakes no task of this stream (a publish since the read is the shard's to write).
            if this.try_park() {
                this.waiting = true;
                match this.poll_parked(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(b)) => return Poll::Ready(Some(Ok(b))),
                    Poll::Ready(None) => continue,
                }
            }
            if this.wait.poll_notified(cx).is_ready() {
                this.caught_up();
                continue;
            }
            this.waiting = true;
            return Poll::Pending;
        }
    }
}
