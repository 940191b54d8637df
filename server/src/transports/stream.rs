//! `GET /stream`: chunked NDJSON, one tick or control object per line.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use tickbench_wire::Transport;

use super::control::{gap_json, BYE_REASON};
use super::feed::Feed;
use super::streaming::framed_response;
use crate::conn::Conn;
use crate::params::Params;
use crate::state::AppState;

pub async fn handler(State(st): State<Arc<AppState>>, conn: Conn, p: Params) -> Response {
    framed_response(
        st,
        Transport::Stream,
        p,
        "application/x-ndjson",
        None,
        frame,
        conn,
    )
}

/// All of a wake-up's ticks as one chunk of lines.
fn frame(f: &Feed) -> Bytes {
    match f {
        Feed::Ticks { gap, ticks } => {
            let size: usize = ticks.iter().map(|(_, j)| j.len() + 1).sum();
            let mut buf = Vec::with_capacity(size + 48);
            if let Some(g) = gap {
                buf.extend_from_slice(gap_json(*g).as_bytes());
                buf.push(b'\n');
            }
            for (_, json) in ticks {
                buf.extend_from_slice(json);
                buf.push(b'\n');
            }
            buf.into()
        }
        Feed::Heartbeat(ts) => format!("{{\"heartbeat\":{ts}}}\n").into(),
        Feed::Bye => format!("{{\"bye\":\"{BYE_REASON}\"}}\n").into(),
    }
}
