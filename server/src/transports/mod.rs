//! One file per push technique, plus the cursor-following feed all four streams share.
//!
//! # Slow consumers (bounded buffering)
//! A stream never queues ticks for a client. Its body is a lazy stream that hyper polls only when
//! the connection can take more (hyper stops polling the body once its write buffer holds
//! ~400 KiB it could not flush), and each poll reads from the journal by cursor at most
//! [`CHUNK_TICKS`] ticks / [`CHUNK_BYTES`] bytes. So a slow or stuck client costs at most one
//! write buffer plus one chunk, whatever the tick rate; it simply falls behind in the journal. If
//! its cursor falls out of the retained window, it gets an explicit gap frame and resumes from
//! the oldest retained tick: loss is declared, memory stays bounded.

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
use tickbench_wire::{now_micros, Gap, Transport};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::app::AppState;
use crate::journal::SymFilter;
use crate::metrics::OpenGuard;

/// Most ticks one stream chunk carries.
pub const CHUNK_TICKS: usize = 4_096;
/// About the most tick JSON bytes one stream chunk carries.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// The reason every `bye` frame gives.
pub const BYE_REASON: &str = "server shutting down";

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
    done: bool,
    _open: OpenGuard,
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
) -> impl Stream<Item = Feed> + Send + 'static {
    let hb = state.config.heartbeat;
    let fs = FeedState {
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
            tokio::select! {
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
                }
                _ = tokio::time::sleep_until(fs.heartbeat_at) => {
                    fs.heartbeat_at = Instant::now() + hb;
                    return Some((Feed::Heartbeat(now_micros()), fs));
                }
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

/// `{"gap":{"from":F,"to":T}}`
pub fn gap_json(g: Gap) -> String {
    format!("{{\"gap\":{{\"from\":{},\"to\":{}}}}}", g.from, g.to)
}

/// Builds a streaming response from a per-transport framing function: `preamble` first, then
/// one body chunk per [`Feed`] item.
pub fn framed_response(
    state: Arc<AppState>,
    transport: Transport,
    since: u64,
    filter: SymFilter,
    content_type: &'static str,
    preamble: Option<Bytes>,
    frame: fn(&Feed) -> Bytes,
) -> Response {
    use futures_util::StreamExt as _;
    state
        .metrics
        .t(transport)
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let start = start_cursor(&state, since);
    let st = state.clone();
    let body = feed(state, since, filter, transport).map(move |f| {
        let b = frame(&f);
        count(&st, transport, &f, b.len());
        Ok::<_, std::convert::Infallible>(b)
    });
    let body = futures_util::stream::iter(preamble.map(Ok)).chain(body);
    let mut resp = Response::new(axum::body::Body::from_stream(body));
    stream_headers(&mut resp, content_type, start);
    resp
}
