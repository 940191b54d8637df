//! `GET /stream`: chunked NDJSON, one tick or control object per line
//! ([`tickbench_wire::framing::ndjson`]).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use tickbench_wire::framing::{Encoder, Ndjson};
use tickbench_wire::Transport;

use super::streaming::{encode, framed_response, preamble};
use crate::conn::Conn;
use crate::params::Params;
use crate::state::AppState;

pub async fn handler(State(st): State<Arc<AppState>>, conn: Conn, p: Params) -> Response {
    framed_response(
        st,
        Transport::Stream,
        p,
        Ndjson::CONTENT_TYPE,
        preamble::<Ndjson>(),
        encode::<Ndjson>,
        conn,
    )
}
