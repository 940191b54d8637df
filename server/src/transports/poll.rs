//! `GET /poll?since=`: answers at once with a batch (possibly empty). With `callback=` the same
//! request is JSONP (see [`super::jsonp`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tickbench_wire::framing::batch;
use tickbench_wire::Transport;

use super::delivery::count_batch;
use crate::json::json_response;
use crate::params::Params;
use crate::state::AppState;

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
    count_batch(&st, Transport::Poll, &out, body.len());
    json_response(StatusCode::OK, body)
}
