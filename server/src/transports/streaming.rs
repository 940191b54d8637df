//! Stream responses: headers, the format's preamble, then the body: [`shared_response`]'s frames
//! shared through the journal (every HTTP stream), or [`framed_response`]'s one chunk per [`Feed`]
//! item framed per read (a format the journal does not frame once).

use std::sync::Arc;

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use tickbench_wire::framing::Encoder;
use tickbench_wire::{Control, Transport};

use super::delivery;
use super::feed::{feed, start_cursor, Feed};
use super::framed::FramedFeed;
use crate::conn::Conn;
use crate::frames::Framed;
use crate::params::Params;
use crate::state::AppState;

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
        delivery::count_chunk(&st, transport, &f, b.len());
        Ok::<_, std::convert::Infallible>(b)
    });
    let body = futures_util::stream::iter(preamble.map(Ok)).chain(body);
    let mut resp = Response::new(axum::body::Body::from_stream(body));
    stream_headers(&mut resp, content_type, start);
    resp
}

/// Builds a streaming response whose body is a [`FramedFeed`]: the preamble, then the frames the
/// journal framed once per tick in `format`, shared by every stream of it.
pub fn shared_response(
    state: Arc<AppState>,
    transport: Transport,
    format: Framed,
    p: Params,
    conn: Conn,
) -> Response {
    state
        .metrics
        .t(transport)
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let start = start_cursor(&state, p.since);
    let body = FramedFeed::new(state, p.since, p.filter, transport, format, conn);
    let mut resp = Response::new(axum::body::Body::from_stream(body));
    stream_headers(&mut resp, format.content_type(), start);
    resp
}
