//! `GET /longpoll?since=&timeout=`: held until a matching tick (or a gap to report) exists, then
//! answered with a batch; an expired hold answers with no ticks and an advanced `next`.
//!
//! The hold waits on the journal's head watch, so a publish wakes it directly (no polling
//! loop), and `next` is always one past the last seq scanned: a tick published while the hold
//! expires or the answer is in flight has `seq >= next` and is in the next answer.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tickbench_wire::framing::batch;
use tickbench_wire::Transport;
use tokio::time::Instant;

use super::delivery::count_batch;
use crate::journal::ReadOut;
use crate::json::json_response;
use crate::metrics::OpenGuard;
use crate::params::Params;
use crate::state::AppState;

pub async fn handler(State(st): State<Arc<AppState>>, p: Params) -> Response {
    st.metrics
        .t(Transport::Longpoll)
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let _held = OpenGuard::new(st.metrics.clone(), Transport::Longpoll);
    let deadline = Instant::now() + Duration::from_secs(p.timeout_s);
    let mut rx = st.journal.subscribe();
    let mut cursor = p.since;
    let out = loop {
        rx.borrow_and_update();
        let out = st.journal.read(cursor, &p.filter, p.limit, usize::MAX);
        cursor = out.next;
        if out.gap.is_some() || !out.ticks.is_empty() {
            break out;
        }
        if cursor < st.journal.next_seq() {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            biased;
            _ = st.cancel.cancelled() => break out,
            r = rx.changed() => if r.is_err() { break out },
            _ = tokio::time::sleep_until(deadline) => break out,
        }
    };
    let out = ReadOut {
        next: cursor,
        ..out
    };
    let mut body = Vec::new();
    batch::encode(&mut body, out.next, &out.ticks, out.gap);
    count_batch(&st, Transport::Longpoll, &out, body.len());
    json_response(StatusCode::OK, body)
}
