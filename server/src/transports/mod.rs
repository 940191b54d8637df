//! One file per push technique, plus the cursor-following feed all four streams share.
//!
//! # Slow consumers
//! A stream never queues ticks for a client. Its body is a lazy stream that hyper polls only when
//! the connection can take more, and each poll reads from the journal by cursor at most
//! [`CHUNK_TICKS`] ticks / [`CHUNK_BYTES`] bytes. What a slow or stuck client can pin is
//! therefore bounded per connection, whatever the tick rate:
//! - the kernel send buffer, fixed by `--sndbuf` (64 KiB asked, 128 KiB as Linux counts it),
//!   instead of autotuning's up to 4 MiB;
//! - hyper's write buffer, which it stops filling at
//!   [`CONN_BUF_BYTES`](crate::serve::CONN_BUF_BYTES), plus at most one chunk.
//!
//! Beyond that the client simply falls behind in the journal. If its cursor falls out of the
//! retained window, it gets an explicit gap frame and resumes from the oldest retained tick:
//! loss is declared, memory stays bounded.
//!
//! Bounded memory is not enough for timely notice, though: that gap frame queues behind what
//! hyper and both kernel socket buffers already hold, which a slow reader drains at its slow
//! pace. Hence a second rule: a stream that has not caught up with the journal head for longer
//! than [`Config::stream_max_behind`](crate::Config::stream_max_behind) (`--max-behind`) is
//! **reset** (a close, as Centrifugo closes slow clients; the reason goes to the log and the
//! `tickbench_slow_consumer_closes_total` metric, since a frame saying so would queue behind the
//! same buffers). The feed tells the connection's [`ConnCtl`] whenever it stands at the head;
//! the check runs on every body poll and, because a slow reader's body may go unpolled for
//! long, on a timer in the connection task too. The task then closes the socket with `SO_LINGER` 0 (RST), which
//! discards the server-side buffers at once; a `bye` frame or a clean close (FIN) would wait
//! behind them like the gap frame. The client sees a connection reset, resumes from the cursor
//! of the last tick it parsed, and gets the gap notice as the new stream's first frame if that
//! cursor was evicted meanwhile. A fast client resuming with a big backlog catches up long
//! before the limit and is never cut.
//!
//! The fixed send buffer is what makes the rule see anything: under autotuning a reader that
//! stops keeps the stream "caught up" until megabytes have queued in the kernel, which at a
//! watchlist's few KB/s takes tens of minutes.

pub mod iframe;
pub mod jsonp;
pub mod longpoll;
pub mod multipart;
pub mod piggyback;
pub mod poll;
pub mod sse;
pub mod stream;

use std::sync::Arc;

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;
use tickbench_wire::framing::Encoder;
use tickbench_wire::{now_micros, Control, Gap, Transport};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::app::AppState;
use crate::journal::SymFilter;
use crate::metrics::OpenGuard;
use crate::params::Params;
use crate::serve::ConnCtl;

/// The connection a stream runs on, as handlers extract it (absent when the router is served
/// by something other than [`crate::serve::accept_loop`]; such streams are never reset).
pub type Conn = Option<axum::Extension<Arc<ConnCtl>>>;

/// Most ticks one stream chunk carries.
pub const CHUNK_TICKS: usize = 4_096;
/// About the most tick JSON bytes one stream chunk carries.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// One thing a stream has to say.
#[derive(Debug)]
pub enum Feed {
    /// Every pending matching tick (up to a chunk's worth), after a gap notice if any.
    Ticks {
        gap: Option<Gap>,
        ticks: Vec<(u64, Bytes)>,
    },
    /// Nothing to say for a heartbeat interval; server clock, µs.
    Heartbeat(u64),
    /// The server is shutting down; the stream ends after this.
    Bye,
}

struct FeedState {
    state: Arc<AppState>,
    cursor: u64,
    filter: SymFilter,
    rx: watch::Receiver<u64>,
    heartbeat_at: Instant,
    /// The connection, told when the stream stands at the journal head.
    conn: Option<Arc<ConnCtl>>,
    done: bool,
    _open: OpenGuard,
}

impl FeedState {
    /// The stream stands at the journal head.
    fn caught_up(&self) {
        if let Some(c) = &self.conn {
            c.caught_up();
        }
    }

    /// The stream waits at the journal head.
    fn waiting(&self) {
        if let Some(c) = &self.conn {
            c.waiting();
        }
    }
}

impl Drop for FeedState {
    fn drop(&mut self) {
        if let Some(c) = &self.conn {
            c.stream_ended();
        }
    }
}

/// The cursor that a stream starting at `since` reports in `X-Tickbench-Next`.
pub fn start_cursor(state: &AppState, since: u64) -> u64 {
    if since == 0 {
        state.journal.first_seq()
    } else {
        since
    }
}

/// Follows the journal from `since`: waits on the head watch (no polling), yields all pending
/// matching ticks at once when woken, a heartbeat when idle, and `Bye` on shutdown.
pub fn feed(
    state: Arc<AppState>,
    since: u64,
    filter: SymFilter,
    transport: Transport,
    conn: Conn,
) -> impl Stream<Item = Feed> + Send + 'static {
    let hb = state.config.heartbeat;
    let conn = conn.map(|c| c.0);
    if let Some(c) = &conn {
        c.stream_started(transport);
    }
    let fs = FeedState {
        conn,
        rx: state.journal.subscribe(),
        _open: OpenGuard::new(state.metrics.clone(), transport),
        state,
        cursor: since,
        filter,
        heartbeat_at: Instant::now() + hb,
        done: false,
    };
    futures_util::stream::unfold(fs, move |mut fs| async move {
        if fs.done {
            return None;
        }
        let max_behind = fs.state.config.stream_max_behind;
        if let Some(c) = &fs.conn {
            if c.cut_if_behind(max_behind, &fs.state.metrics) {
                // The connection task is resetting the socket and drops this body with it. Send no
                // frame and do not end the body: a `bye` or a clean end would only queue behind the
                // data the reset discards, and a completed response could let hyper close the
                // connection gracefully first.
                std::future::pending::<()>().await;
            }
        }
        loop {
            if fs.state.cancel.is_cancelled() {
                fs.done = true;
                return Some((Feed::Bye, fs));
            }
            // Mark the head as seen *before* reading, so a publish racing with the read still
            // wakes the `changed()` below.
            fs.rx.borrow_and_update();
            let out = fs
                .state
                .journal
                .read(fs.cursor, &fs.filter, CHUNK_TICKS, CHUNK_BYTES);
            fs.cursor = out.next;
            if fs.cursor >= fs.state.journal.next_seq() {
                fs.caught_up();
            }
            if out.gap.is_some() || !out.ticks.is_empty() {
                fs.heartbeat_at = Instant::now() + hb;
                return Some((
                    Feed::Ticks {
                        gap: out.gap,
                        ticks: out.ticks,
                    },
                    fs,
                ));
            }
            if fs.cursor < fs.state.journal.next_seq() {
                // The scan was capped (sparse watchlist): keep going, but let others run.
                tokio::task::yield_now().await;
                continue;
            }
            fs.waiting();
            let woke = tokio::select! {
                biased;
                _ = fs.state.cancel.cancelled() => {
                    fs.done = true;
                    return Some((Feed::Bye, fs));
                }
                r = fs.rx.changed() => {
                    if r.is_err() {
                        fs.done = true;
                        return Some((Feed::Bye, fs));
                    }
                    None
                }
                _ = tokio::time::sleep_until(fs.heartbeat_at) => {
                    fs.heartbeat_at = Instant::now() + hb;
                    Some(Feed::Heartbeat(now_micros()))
                }
            };
            // It stood at the head until now.
            fs.caught_up();
            if let Some(f) = woke {
                return Some((f, fs));
            }
        }
    })
}

/// Counts one chunk in the transport's metrics.
pub fn count(state: &AppState, t: Transport, feed: &Feed, bytes: usize) {
    let p = state.metrics.t(t);
    if let Feed::Ticks { gap, ticks } = feed {
        p.deliveries
            .fetch_add(ticks.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if gap.is_some() {
            p.gaps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    p.bytes
        .fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
}

/// Headers every stream sends: its content type, no caching, no proxy buffering, and the cursor
/// it starts at.
pub fn stream_headers(resp: &mut Response, content_type: &'static str, start: u64) {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    h.insert(
        HeaderName::from_static("x-tickbench-next"),
        HeaderValue::from(start),
    );
}

/// One feed item as one body chunk in the format `E` (all of a wake-up's ticks in one buffer).
pub fn encode<E: Encoder>(f: &Feed) -> Bytes {
    let mut buf = Vec::new();
    match f {
        Feed::Ticks { gap, ticks } => E::ticks(&mut buf, *gap, ticks),
        Feed::Heartbeat(ts) => E::control(&mut buf, &Control::Heartbeat(*ts)),
        Feed::Bye => E::control(&mut buf, &Control::bye()),
    }
    buf.into()
}

/// What a response in the format `E` starts with, if anything.
pub fn preamble<E: Encoder>() -> Option<Bytes> {
    let mut buf = Vec::new();
    E::preamble(&mut buf);
    (!buf.is_empty()).then(|| buf.into())
}

/// Builds a streaming response from a per-transport framing function: `preamble` first, then
/// one body chunk per [`Feed`] item.
pub fn framed_response(
    state: Arc<AppState>,
    transport: Transport,
    p: Params,
    content_type: &'static str,
    preamble: Option<Bytes>,
    frame: fn(&Feed) -> Bytes,
    conn: Conn,
) -> Response {
    use futures_util::StreamExt as _;
    state
        .metrics
        .t(transport)
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let start = start_cursor(&state, p.since);
    let st = state.clone();
    let body = feed(state, p.since, p.filter, transport, conn).map(move |f| {
        let b = frame(&f);
        count(&st, transport, &f, b.len());
        Ok::<_, std::convert::Infallible>(b)
    });
    let body = futures_util::stream::iter(preamble.map(Ok)).chain(body);
    let mut resp = Response::new(axum::body::Body::from_stream(body));
    stream_headers(&mut resp, content_type, start);
    resp
}
