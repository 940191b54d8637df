//! `GET /multipart`: `multipart/x-mixed-replace`, one part per tick or control frame
//! ([`tickbench_wire::framing::multipart`]).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use tickbench_wire::framing::{Encoder, Multipart};
use tickbench_wire::Transport;

use super::streaming::{encode, framed_response, preamble};
use crate::conn::Conn;
use crate::params::Params;
use crate::state::AppState;

pub async fn handler(State(st): State<Arc<AppState>>, conn: Conn, p: Params) -> Response {
    framed_response(
        st,
        Transport::Multipart,
        p,
        Multipart::CONTENT_TYPE,
        preamble::<Multipart>(),
        encode::<Multipart>,
        conn,
    )
}
