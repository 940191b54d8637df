//! [`Slot`]: where a parked stream and its shard meet. The stream (its `FramedFeed`, polled by
//! its connection task) and the shard writing for it agree through one small lock per stream,
//! uncontended in practice: the shard holds it across its write to that stream, the stream takes
//! it to park, to come back, and when it is dropped. So a byte the shard wrote is always before
//! anything the stream writes after coming back, and nothing is written for a stream that has
//! gone.

use std::sync::{Mutex, MutexGuard};
use std::task::Context;
use std::time::Instant;

use bytes::Bytes;
use futures_util::task::AtomicWaker;

/// Whose turn it is to write a stream's ticks.
#[derive(Debug, Default)]
pub enum SlotState {
    /// The stream's own task (the connection reads and writes it as any other stream).
    #[default]
    Own,
    /// A shard's: it writes every tick from `cursor` on and moves the cursor past what it wrote.
    Parked {
        /// Which parking this is: a shard still holding an older one's entry drops it.
        parking: u64,
        cursor: u64,
        /// When the shard last wrote to the stream (the stream's heartbeat counts from it).
        last: Option<Instant>,
    },
    /// Handed back by the shard (the socket was full, or the stream must read by cursor): the
    /// stream writes `leftover` first (the rest of what the shard could not write, already
    /// counted as delivered) and goes on from `cursor`.
    Returned {
        cursor: u64,
        leftover: Bytes,
        last: Option<Instant>,
    },
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Slot {
    state: Mutex<SlotState>,
    /// The stream's task, woken when the shard hands the stream back.
    waker: AtomicWaker,
}

impl Slot {
    pub fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the stream back to its task (the lock held as `state`) and wakes it.
    pub fn give_back(
        &self,
        state: &mut SlotState,
        cursor: u64,
        leftover: Bytes,
        last: Option<Instant>,
    ) {
        *state = SlotState::Returned {
            cursor,
            leftover,
            last,
        };
        self.waker.wake();
    }

    /// For the stream's task: registers it to be woken when handed back, then returns the
    /// state's guard (so a hand-back between the two is seen, not lost).
    pub fn watch(&self, cx: &mut Context<'_>) -> MutexGuard<'_, SlotState> {
        self.waker.register(cx.waker());
        self.lock()
    }
}
