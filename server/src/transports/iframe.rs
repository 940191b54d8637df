//! `GET /iframe`: the "forever iframe", an HTML document that never ends, one `<script>` per
//! event calling into the parent page ([`tickbench_wire::framing::iframe`]).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use tickbench_wire::Transport;

use super::streaming::shared_response;
use crate::conn::Conn;
use crate::frames::Framed;
use crate::params::Params;
use crate::state::AppState;

pub async fn handler(State(st): State<Arc<AppState>>, conn: Conn, p: Params) -> Response {
    shared_response(st, Transport::Iframe, Framed::Iframe, p, conn)
}
