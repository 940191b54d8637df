//! `GET /multipart`: `multipart/x-mixed-replace`, one part per tick or control frame.

use std::io::Write as _;
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
        Transport::Multipart,
        p,
        "multipart/x-mixed-replace; boundary=tickbench",
        None,
        frame,
        conn,
    )
}

fn part(buf: &mut Vec<u8>, body: &[u8]) {
    let _ = write!(
        buf,
        "--tickbench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    buf.extend_from_slice(body);
    buf.extend_from_slice(b"\r\n");
}

fn frame(f: &Feed) -> Bytes {
    let mut buf = Vec::new();
    match f {
        Feed::Ticks { gap, ticks } => {
            let size: usize = ticks.iter().map(|(_, j)| j.len() + 80).sum();
            buf.reserve(size + 128);
            if let Some(g) = gap {
                part(&mut buf, gap_json(*g).as_bytes());
            }
            for (_, json) in ticks {
                part(&mut buf, json);
            }
        }
        Feed::Heartbeat(ts) => part(&mut buf, format!("{{\"heartbeat\":{ts}}}").as_bytes()),
        Feed::Bye => {
            part(&mut buf, format!("{{\"bye\":\"{BYE_REASON}\"}}").as_bytes());
            buf.extend_from_slice(b"--tickbench--\r\n");
        }
    }
    buf.into()
}
