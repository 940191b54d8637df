//! `--debug-slow TRANSPORT=FACTOR`: an injected slowdown for validating the regression gate
//! (hidden from `--help`; see docs/protocol.md, "Gate validation"). Each body chunk of that
//! transport's streams is held until `ts + FACTOR × (now − ts)`, `ts` being the scheduled time of
//! the chunk's first tick and `now` the moment the server would have sent it: the server-side
//! part of that tick's latency is multiplied by FACTOR, and nothing else changes (same bytes,
//! same order, same cursors; a chunk without a tick, like a gap notice or `bye`, is not held).
//!
//! Hooked into the router as a middleware ([`layer`]) only when the flag is given, so it wraps the
//! body of every answer on that transport's path, whoever writes it to the socket. Only the HTTP
//! streams (`stream`, `sse`, `multipart`, `iframe`) can be slowed (one body per connection, a
//! chunk per delivery); the others are refused when parsed.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use futures_util::Stream;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::Waker;
use std::time::Instant;
use tickbench_wire::now_micros;

use crate::state::AppState;

pub use spec::Slowdown;

mod spec;

/// `router` with the slowdown's middleware when `config.debug_slow` names a transport, else
/// `router` as it is: a server without the flag does not pay for a layer on every request.
pub fn layer(router: Router<Arc<AppState>>, state: &Arc<AppState>) -> Router<Arc<AppState>> {
    if state.config.debug_slow.is_empty() {
        return router;
    }
    router.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        middleware,
    ))
}

/// Holds the body of a slowed transport's answer (matched by its path), chunk by chunk.
async fn middleware(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    match st
        .config
        .debug_slow
        .iter()
        .find(|s| s.transport.path() == path)
    {
        None => resp,
        Some(s) => {
            let (factor, extra) = (s.factor, s.extra);
            resp.map(|b| {
                Body::from_stream(Held {
                    inner: Box::pin(b.into_data_stream()),
                    factor,
                    extra,
                    ready: VecDeque::new(),
                    ended: false,
                    registered: None,
                })
            })
        }
    }
}

/// Chunks the inner stream yielded (stamped with when it did) but not yet released.
const HELD_MAX: usize = 1024;

/// A stream whose chunks are each released at `ts + factor × (yielded − ts) + extra`. The inner
/// stream keeps being polled while a chunk is held, so `yielded` is when the server would have sent the
/// chunk: holding one chunk does not make the next one's hold longer (holds do not compound).
struct Held {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>,
    factor: f64,
    /// Added to every tick's hold.
    extra: Duration,
    /// Chunks yielded by `inner`, each with the moment it is due.
    ready: VecDeque<(Instant, Result<Bytes, axum::Error>)>,
    ended: bool,
    /// The due time the [`Timer`] was last asked to wake this stream at.
    registered: Option<Instant>,
}

impl Stream for Held {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        while !this.ended && this.ready.len() < HELD_MAX {
            match this.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Err(e))) => {
                    // Passed on in order, after what was read before it.
                    this.ready.push_back((Instant::now(), Err(e)));
                }
                Poll::Ready(Some(Ok(b))) => {
                    let hold = first_ts(&b).map_or(Duration::ZERO, |ts| {
                        hold_for(ts, now_micros(), this.factor) + this.extra
                    });
                    this.ready.push_back((Instant::now() + hold, Ok(b)));
                }
                Poll::Ready(None) => this.ended = true,
                Poll::Pending => break,
            }
        }
        let Some(&(due, _)) = this.ready.front() else {
            return if this.ended {
                Poll::Ready(None)
            } else {
                Poll::Pending
            };
        };
        if due <= Instant::now() {
            this.registered = None;
            return Poll::Ready(this.ready.pop_front().map(|(_, b)| b));
        }
        if this.registered != Some(due) {
            // Not tokio's timer: it fires at whole milliseconds, and the holds being made
            // exact here are fractions of one.
            this.registered = Some(due);
            Timer::get().wake_at(due, cx.waker().clone());
        }
        Poll::Pending
    }
}

/// One thread that wakes held streams at their due times, to the precision of the OS's sleep
/// (tens of µs) rather than tokio's whole milliseconds. Started on first use: only a server
/// given `--debug-slow` has it.
struct Timer {
    due: Mutex<BinaryHeap<Due>>,
    changed: Condvar,
}

/// A waker and when to wake it (ordered soonest first in the max-heap).
struct Due(Instant, Waker);

impl PartialEq for Due {
    fn eq(&self, o: &Due) -> bool {
        self.0 == o.0
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, o: &Due) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Due {
    fn cmp(&self, o: &Due) -> std::cmp::Ordering {
        o.0.cmp(&self.0)
    }
}

impl Timer {
    fn get() -> &'static Timer {
        static TIMER: OnceLock<&'static Timer> = OnceLock::new();
        TIMER.get_or_init(|| {
            let t: &'static Timer = Box::leak(Box::new(Timer {
                due: Mutex::new(BinaryHeap::new()),
                changed: Condvar::new(),
            }));
            // If the thread cannot start, holds end at the next wake-up of their stream.
            let _ = std::thread::Builder::new()
                .name("debug-slow-timer".into())
                .spawn(move || t.run());
            t
        })
    }

    fn wake_at(&self, at: Instant, w: Waker) {
        let mut q = self.due.lock().unwrap_or_else(|e| e.into_inner());
        q.push(Due(at, w));
        self.changed.notify_one();
    }

    fn run(&self) {
        let mut q = self.due.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            while q.peek().is_some_and(|d| d.0 <= now) {
                if let Some(Due(_, w)) = q.pop() {
                    w.wake();
                }
            }
            q = match q.peek().map(|d| d.0 - now) {
                None => self.changed.wait(q).unwrap_or_else(|e| e.into_inner()),
                Some(wait) => match self.changed.wait_timeout(q, wait) {
                    Ok((q, _)) => q,
                    Err(e) => e.into_inner().0,
                },
            };
        }
    }
}

/// How much longer to hold a chunk whose first tick is scheduled at `ts` (µs), at `now`:
/// `(factor − 1) × (now − ts)`.
pub fn hold_for(ts: u64, now: u64, factor: f64) -> Duration {
    Duration::from_micros((now.saturating_sub(ts) as f64 * (factor - 1.0)) as u64)
}

/// The `ts` of the first tick in a framed chunk (every format carries the tick's JSON, whose
/// last field is `"ts":<µs>`); `None` for a chunk without a tick.
pub fn first_ts(chunk: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"ts\":";
    let at = chunk.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits = chunk[at..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    std::str::from_utf8(&chunk[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickbench_wire::Transport;

    #[test]
    fn parses_and_refuses() {
        let s: Slowdown = "sse=2".parse().unwrap();
        assert_eq!((s.transport, s.factor), (Transport::Sse, 2.0));
        assert_eq!(s.to_string(), "sse=2");
        assert!("sse".parse::<Slowdown>().is_err());
        let s: Slowdown = "sse=+1.5ms".parse().unwrap();
        assert_eq!(
            (s.factor, s.extra),
            (1.0, Duration::from_micros(1500)),
            "an added delay"
        );
        assert_eq!(s.to_string(), "sse=+1.5ms");
        assert!("sse=+1.5".parse::<Slowdown>().is_err());
        assert!("ws=+1ms".parse::<Slowdown>().is_err());
        assert!("sse=0.5".parse::<Slowdown>().is_err());
        assert!("sse=x".parse::<Slowdown>().is_err());
        assert!("nope=2".parse::<Slowdown>().is_err());
        let poll = "poll=2".parse::<Slowdown>().unwrap_err();
        assert!(poll.contains("cannot be slowed"), "{poll}");
    }

    #[test]
    fn finds_the_first_ts_and_holds_by_the_factor() {
        let sse =
            b"id: 7\ndata: {\"seq\":7,\"sym\":\"A\",\"ts\":1000}\n\nid: 8\ndata: {\"ts\":2000}\n\n";
        assert_eq!(first_ts(sse), Some(1000));
        assert_eq!(first_ts(b": hb 5\n\n"), None);
        assert_eq!(hold_for(1000, 1600, 2.0), Duration::from_micros(600));
        assert_eq!(hold_for(1000, 1600, 3.0), Duration::from_micros(1200));
        assert_eq!(hold_for(1000, 900, 2.0), Duration::ZERO);
    }
}
