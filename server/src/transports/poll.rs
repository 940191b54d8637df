//! `GET /poll?since=`: answers at once with a batch (possibly empty). With `callback=` the same
//! request is JSONP (see [`super::jsonp`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tickbench_wire::framing::batch;
use tickbench_wire::Transport;

use crate::app::{json_response, AppState};
use crate::journal::ReadOut;
use crate::params::Params;

pub async fn handler(State(st): State<Arc<AppState>>, p: Params) -> Response {
    if let Some(cb) = &p.callback {
        return super::jsonp::respond(&st, &p, cb);
    }
    st.metrics
        .t(Transport::Poll)
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = st.journal.read(p.since, &p.filter, p.limit, usize::MAX);
    let mut body = Vec::new();
    batch::encode(&mut body, out.next, &out.ticks, out.gap);
    record(&st, Transport::Poll, &out, body.len());
    json_response(StatusCode::OK, body)
}

/// Counts one batch answer in the transport's metrics.
pub fn record(st: &AppState, t: Transport, out: &ReadOut, bytes: usize) {
    st.metrics.delivered(t, out.ticks.len(), bytes);
    if out.gap.is_some() {
        st.metrics
            .t(t)
            .gaps
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
