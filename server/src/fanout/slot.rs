//! [`Slot`]: where a plain HTTP/1.1 connection's stream and the shard writing for it meet, one
//! per connection (made with its socket, see `crate::conn::ResetIo`). The stream (its
//! `FramedFeed`, polled by the connection task) and the shard agree through one small lock,
//! uncontended in practice: the shard holds it across its write to that stream, the stream takes
//! it to park, to come back, and when it is dropped, and the socket takes it before it closes.
//! So a byte the shard wrote is always before anything the stream writes after coming back, and
//! nothing is written for a stream that has gone or to a descriptor that was closed (or reused
//! by another client). One allocation and one lock per delivery: a pass touches little memory
//! per stream.

use std::os::fd::RawFd;
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
    /// A shard's: it writes every tick from the stream's cursor on (the shard keeps the
    /// cursor while the stream is parked).
    Parked {
        /// Which parking this is: a shard still holding an older one's entry drops it.
        parking: u64,
    },
    /// Handed back by the shard (the socket was full, or the stream must read by cursor): the
    /// stream writes `leftover` first (the rest of what the shard could not write, already
    /// counted as delivered) and goes on from `cursor`.
    Returned {
        cursor: u64,
        leftover: Bytes,
        /// When the shard last wrote to the stream (the stream's heartbeat counts from it).
        last: Instant,
    },
}

/// See the module docs.
#[derive(Debug)]
pub struct Slot {
    inner: Mutex<Inner>,
    /// The stream's task, woken when the shard hands the stream back.
    waker: AtomicWaker,
}

/// What the lock guards.
#[derive(Debug)]
pub struct Inner {
    /// The socket, until it closes.
    fd: Option<RawFd>,
    pub turn: SlotState,
}

impl Inner {
    /// The socket while it is open: write to it with [`super::socket::send`] under this lock.
    pub fn fd(&self) -> Option<RawFd> {
        self.fd
    }
}

impl Slot {
    /// The slot of the connection whose socket is `fd`.
    pub fn new(fd: RawFd) -> Slot {
        Slot {
            inner: Mutex::new(Inner {
                fd: Some(fd),
                turn: SlotState::Own,
            }),
            waker: AtomicWaker::new(),
        }
    }

    /// No write reaches the socket after this returns: called before it closes.
    pub fn close(&self) {
        self.lock().fd = None;
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the stream back to its task (the lock held as `inner`) and wakes it.
    pub fn give_back(&self, inner: &mut Inner, cursor: u64, leftover: Bytes, last: Instant) {
        inner.turn = SlotState::Returned {
            cursor,
            leftover,
            last,
        };
        self.waker.wake();
    }

    /// For the stream's task: registers it to be woken when handed back, then returns the
    /// guard (so a hand-back between the two is seen, not lost).
    pub fn watch(&self, cx: &mut Context<'_>) -> MutexGuard<'_, Inner> {
        self.waker.register(cx.waker());
        self.lock()
    }
}
