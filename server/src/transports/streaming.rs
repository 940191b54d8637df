//! Stream responses: the headers every stream sends; for the framed streams (NDJSON, multipart,
//! iframe) an optional preamble, then one body chunk per [`Feed`] item from a framing function.

use std::sync::Arc;

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use tickbench_wire::Transport;

use super::delivery;
use super::feed::{feed, start_cursor, Feed};
use crate::conn::Conn;
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
