//! JSONP polling, `GET /poll?since=&callback=fn`: the batch wrapped as `fn({batch});`, the way
//! pre-CORS pages polled a quote server on another origin through a `<script>` tag.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tickbench_wire::Transport;

use super::batch::write_batch_fields;
use super::delivery::count_batch;
use crate::params::Params;
use crate::state::AppState;

/// `callback` has already been validated against `^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$`.
pub fn respond(st: &AppState, p: &Params, callback: &str) -> Response {
    st.metrics
        .t(Transport::Jsonp)
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = st.journal.read(p.since, &p.filter, p.limit, usize::MAX);
    let size: usize = out.ticks.iter().map(|(_, j)| j.len() + 1).sum();
    let mut body = Vec::with_capacity(size + callback.len() + 64);
    body.extend_from_slice(callback.as_bytes());
    body.extend_from_slice(b"({");
    write_batch_fields(&mut body, out.next, &out.ticks, out.gap);
    body.extend_from_slice(b"});");
    count_batch(st, Transport::Jsonp, &out, body.len());
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/javascript; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
