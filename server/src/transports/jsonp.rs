//! JSONP polling, `GET /poll?since=&callback=fn`: the batch wrapped as `fn({batch});`, the way
//! pre-CORS pages polled a quote server on another origin through a `<script>` tag.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tickbench_wire::framing::jsonp;
use tickbench_wire::Transport;

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
    let mut body = Vec::new();
    jsonp::encode(&mut body, callback, out.next, &out.ticks, out.gap);
    count_batch(st, Transport::Jsonp, &out, body.len());
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(jsonp::CONTENT_TYPE),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
