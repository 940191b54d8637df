//! Per-symbol reader wake-ups: a publish wakes only the streams whose watchlist names one of the
//! published symbols (and the streams that watch everything), never all of them.
//!
//! Each stream owns one [`Waiter`], registered for its whole life in the set of every symbol it
//! watches (or in the "all symbols" set). A publish sets the waiter's flag and wakes its task; a
//! waiter the stream is not waiting on at the moment just keeps the flag, so a publish racing
//! with a read is never lost (the reader clears the flag *before* it reads the journal, then
//! waits only if the flag is still clear). The stream still reads by cursor: the wake-up says
//! "look", the journal says what is there, so gaps, slow consumers and resets behave as before.
//!
//! Before this, one `watch` channel woke every stream on every publish, and a stream watching one
//! symbol of hundreds scanned the journal to find nothing on nearly every tick: the server's CPU
//! per delivery grew as watchlists shrank (issue 14).

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

/// One stream's wake-up: a flag plus the task to wake.
#[derive(Debug, Default)]
pub struct Waiter {
    /// Set by a publish that concerns the stream, cleared by the stream before it reads.
    notified: AtomicBool,
    /// The stream's task while it waits (a publish takes it, so a task is woken once).
    waker: AtomicWaker,
}

impl Waiter {
    /// Clears the flag: call before reading the journal, so a publish racing with the read sets
    /// it again and the next [`Waiter::poll_notified`] returns at once. `Acquire` pairs with the
    /// publisher's `Release`: what the publish appended is visible to the read that follows.
    pub fn reset(&self) {
        self.notified.swap(false, Ordering::Acquire);
    }

    /// Ready once a publish concerning the stream happened since the last [`Waiter::reset`].
    pub fn poll_notified(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.notified.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        // Checked again after registering: a publish in between set the flag but found no waker.
        if self.notified.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Waits for [`Waiter::poll_notified`].
    pub async fn notified(&self) {
        poll_fn(|cx| self.poll_notified(cx)).await
    }

    fn notify(&self) {
        self.notified.store(true, Ordering::Release);
        self.waker.wake();
    }
}

/// A set of waiters with O(1) removal: a slot vector and its free list.
#[derive(Debug, Default)]
struct Slots {
    v: Vec<Option<Arc<Waiter>>>,
    free: Vec<usize>,
}

impl Slots {
    fn insert(&mut self, w: Arc<Waiter>) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.v[i] = Some(w);
                i
            }
            None => {
                self.v.push(Some(w));
                self.v.len() - 1
            }
        }
    }

    fn remove(&mut self, i: usize) {
        if let Some(slot) = self.v.get_mut(i) {
            if slot.take().is_some() {
                self.free.push(i);
            }
        }
    }

    fn notify_all(&self) {
        for w in self.v.iter().flatten() {
            w.notify();
        }
    }
}

/// Every registered waiter, by symbol.
#[derive(Debug)]
pub struct Wakeups {
    /// Streams that watch every symbol.
    all: Mutex<Slots>,
    /// Streams that watch a list, in the set of each symbol on it. A std mutex per symbol:
    /// nothing is awaited under it, and a publish holds one symbol's lock only to set flags.
    by_sym: Box<[Mutex<Slots>]>,
}

fn lock(m: &Mutex<Slots>) -> MutexGuard<'_, Slots> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Wakeups {
    pub fn new(symbols: usize) -> Wakeups {
        Wakeups {
            all: Mutex::default(),
            by_sym: (0..symbols).map(|_| Mutex::default()).collect(),
        }
    }

    /// Registers a new waiter for `syms` (`None` = every symbol); it stays registered until the
    /// returned [`Registration`] is dropped. Symbol ids out of range are ignored.
    pub fn register(self: &Arc<Self>, syms: Option<&[u32]>) -> Registration {
        let waiter = Arc::new(Waiter::default());
        let slots = match syms {
            None => vec![(None, lock(&self.all).insert(waiter.clone()))],
            Some(ids) => ids
                .iter()
                .filter_map(|&s| {
                    let set = self.by_sym.get(s as usize)?;
                    Some((Some(s), lock(set).insert(waiter.clone())))
                })
                .collect(),
        };
        Registration {
            waiter,
            slots,
            wakeups: self.clone(),
        }
    }

    /// Wakes the waiters of the symbols in `syms` (each named once or more) and every
    /// all-symbols waiter.
    pub fn notify(&self, syms: impl IntoIterator<Item = u32>) {
        lock(&self.all).notify_all();
        for s in syms {
            if let Some(set) = self.by_sym.get(s as usize) {
                lock(set).notify_all();
            }
        }
    }

    /// Wakes every waiter (a replay, which moves cursors without ticks to read).
    pub fn notify_everyone(&self) {
        lock(&self.all).notify_all();
        for set in self.by_sym.iter() {
            lock(set).notify_all();
        }
    }
}

/// A registered [`Waiter`]; dropping it unregisters it.
#[derive(Debug)]
pub struct Registration {
    waiter: Arc<Waiter>,
    /// Where it is registered: `(None, i)` in the all-symbols set, `(Some(sym), i)` in a symbol's.
    slots: Vec<(Option<u32>, usize)>,
    wakeups: Arc<Wakeups>,
}

impl std::ops::Deref for Registration {
    type Target = Waiter;
    fn deref(&self) -> &Waiter {
        &self.waiter
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        for &(sym, i) in &self.slots {
            let set = match sym {
                None => &self.wakeups.all,
                Some(s) => &self.wakeups.by_sym[s as usize],
            };
            lock(set).remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn cx_poll(w: &Waiter) -> Poll<()> {
        let mut cx = Context::from_waker(Waker::noop());
        w.poll_notified(&mut cx)
    }

    #[test]
    fn only_the_watchers_of_a_published_symbol_are_woken() {
        let wk = Arc::new(Wakeups::new(10));
        let one = wk.register(Some(&[1]));
        let two = wk.register(Some(&[2, 3]));
        let all = wk.register(None);
        for r in [&one, &two, &all] {
            r.reset();
            assert!(cx_poll(r).is_pending());
        }
        wk.notify([3, 3]);
        assert!(cx_poll(&one).is_pending());
        assert!(cx_poll(&two).is_ready());
        assert!(cx_poll(&all).is_ready());
        // A notification is kept until the reader resets it.
        assert!(cx_poll(&two).is_ready());
        two.reset();
        assert!(cx_poll(&two).is_pending());
        drop(one);
        wk.notify([1]);
        assert!(lock(&wk.by_sym[1]).v.iter().all(Option::is_none));
        let again = wk.register(Some(&[1, 99]));
        assert_eq!(again.slots.len(), 1, "out-of-range ids are ignored");
        assert_eq!(lock(&wk.by_sym[1]).v.len(), 1, "the freed slot is reused");
    }
}
