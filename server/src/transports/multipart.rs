//! `GET /multipart`: `multipart/x-mixed-replace`, one part per tick or control frame
//! ([`tickbench_wire::framing::multipart`]).

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
    shared_response(st, Transport::Multipart, Framed::Multipart, p, conn)
}
