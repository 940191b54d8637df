//! `GET /stream`: chunked NDJSON, one tick or control object per line
//! ([`tickbench_wire::framing::ndjson`]).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use tickbench_wire::framing::{Encoder, Ndjson};
use tickbench_wire::Transport;

use super::{encode, framed_response, preamble, Conn};
use crate::app::AppState;
use crate::params::Params;

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
