//! `GET /iframe`: the "forever iframe", an HTML document that never ends, one `<script>` per
//! event calling into the parent page ([`tickbench_wire::framing::iframe`]).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use tickbench_wire::framing::{Encoder, Iframe};
use tickbench_wire::Transport;

use super::streaming::{encode, framed_response, preamble};
use crate::conn::Conn;
use crate::params::Params;
use crate::state::AppState;

pub async fn handler(State(st): State<Arc<AppState>>, conn: Conn, p: Params) -> Response {
    framed_response(
        st,
        Transport::Iframe,
        p,
        Iframe::CONTENT_TYPE,
        preamble::<Iframe>(),
        encode::<Iframe>,
        conn,
    )
}
