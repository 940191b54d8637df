//! The fan-out writer: streams standing at the journal head are written by a few shard tasks,
//! one pass per publish, instead of each stream's task being woken to write its own tick.
//!
//! # Why
//! With every stream in its own task, a publish to 2,000 readers is 2,000 task wake-ups, each
//! polling its connection, its body and its timers to make one `write`: the server spent about
//! 10 µs of CPU per delivery where the fan-out floor (one thread per core looping over its
//! sockets, one `write` each) spends about 7.5, and its writes, spread over time, woke the
//! readers more often. Here a publish wakes one task per core ("shard"); each writes the new
//! ticks to every stream parked with it, one `send` per stream (several frames in one `sendmsg`
//! when a pass finds several ticks), the frames being the journal's shared pre-chunked bytes.
//! That is the floor's loop, inside the server.
//!
//! # What it serves, and what it hands back
//! Only what the fast path can do exactly: a stream written straight to a plain HTTP/1.1 socket
//! (`crate::direct`: SSE, NDJSON, multipart, iframe; not TLS, not hyper, not WebSocket), not
//! slowed by `--debug-slow`, and only while it stands at the head. Its `FramedFeed` parks it
//! when it has written everything up to the head ([`Fanout::park`]); from then on the shard
//! moves its cursor. Everything else stays the stream's own, unchanged: when its socket is full
//! the shard hands it back with the unwritten rest ([`SlotState::Returned`]), and the stream
//! goes on by cursor (so a slow consumer, `--max-behind` and gap notices behave exactly as
//! before); `bye` at shutdown and its end (the connection closing) make the stream take itself
//! back first. Its heartbeats are the shard's (a parked stream's task sleeps until handed back
//! or shutdown), and a watchlist of a few symbols is tested inline ([`Watch`]): a pass costs a
//! stream that does not watch its ticks a few comparisons in memory the pass reads in order.
//! See [`slot`] for how the two never both write.

mod shard;
mod slot;
mod socket;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use shard::{Member, Watch};
pub use slot::{Slot, SlotState};

use shard::Shard;

use crate::journal::Journal;
use crate::metrics::Metrics;
use tokio_util::sync::CancellationToken;

/// The server's fan-out writer; see the module docs. Its shards start with the first parking.
#[derive(Debug)]
pub struct Fanout {
    shards: OnceLock<Box<[Arc<Shard>]>>,
    next: AtomicUsize,
    on: bool,
    /// The streams' heartbeat interval: the shards send parked streams their heartbeats.
    heartbeat: Duration,
}

impl Fanout {
    /// `on`: whether streams may park (off when something must see every chunk a stream
    /// writes, as `--debug-slow` does).
    pub fn new(on: bool, heartbeat: Duration) -> Fanout {
        Fanout {
            shards: OnceLock::new(),
            next: AtomicUsize::new(0),
            on,
            heartbeat,
        }
    }

    pub fn enabled(&self) -> bool {
        self.on
    }

    /// Parks `member`, whose stream has written every tick before its `cursor`: a shard writes
    /// its ticks from there on until it hands the stream back. Must be called from within
    /// the server's runtime (the first call starts the shards, one per core).
    pub fn park(
        &self,
        member: Member,
        journal: &Arc<Journal>,
        metrics: &Arc<Metrics>,
        cancel: &CancellationToken,
    ) {
        let cursor = member.cursor;
        member.slot.lock().turn = SlotState::Parked {
            parking: member.parking,
        };
        let shards = self.shards.get_or_init(|| {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            (0..n)
                .map(|_| {
                    let s = Arc::new(Shard::default());
                    tokio::spawn(shard::run(
                        s.clone(),
                        journal.clone(),
                        metrics.clone(),
                        cancel.clone(),
                        self.heartbeat,
                    ));
                    s
                })
                .collect()
        });
        let s = &shards[self.next.fetch_add(1, Ordering::Relaxed) % shards.len()];
        s.incoming
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(member);
        // Only a stream that is behind the head needs the shard before the next publish.
        if cursor < journal.next_seq() {
            s.wake.notify_one();
        }
    }
}
