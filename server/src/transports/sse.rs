//! `GET /sse`: Server-Sent Events ([`tickbench_wire::framing::sse`]): `retry: 2000` first, then
//! one event per tick with `id: <seq>`, `event: gap` / `event: bye` for control, `: hb TS`
//! comments as keep-alives. Resumes from `Last-Event-ID` (at `id + 1`; it wins over `?since=`).
//!
//! Written by wire's [`Sse`] encoder into a plain streaming body rather than through axum's
//! `Sse`/`Event`: the bytes then have one definition, shared with the client's parser and checked
//! against it by the format's round-trip test, and a wake-up's events are framed into one chunk
//! like every other stream's, bytes that could be framed once per tick at publish time and
//! shared between streams. The response's headers are those axum's `Sse` gave it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use tickbench_wire::Transport;

use super::streaming::shared_response;
use crate::api_error::ApiError;
use crate::conn::Conn;
use crate::frames::Framed;
use crate::params::Params;
use crate::state::AppState;

pub async fn handler(
    State(st): State<Arc<AppState>>,
    conn: Conn,
    headers: HeaderMap,
    p: Params,
) -> Result<Response, ApiError> {
    let since = match headers.get("last-event-id") {
        None => p.since,
        Some(v) => {
            let bad = || ApiError::param("Last-Event-ID", "Last-Event-ID must be a tick seq");
            let id: u64 = v
                .to_str()
                .map_err(|_| bad())?
                .trim()
                .parse()
                .map_err(|_| bad())?;
            let next = st.journal.next_seq();
            if id >= next {
                return Err(ApiError::param(
                    "Last-Event-ID",
                    format!("Last-Event-ID {id} is ahead of the journal (next seq is {next})"),
                ));
            }
            id + 1
        }
    };
    let p = Params { since, ..p };
    Ok(shared_response(st, Transport::Sse, Framed::Sse, p, conn))
}
