//! `GET /sse`: Server-Sent Events through axum's [`Sse`]: `retry: 2000` first, then one event
//! per tick with `id: <seq>`, `event: gap` / `event: bye` for control, `: hb TS` comments as
//! keep-alives. Resumes from `Last-Event-ID` (at `id + 1`; it wins over `?since=`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use tickbench_wire::Transport;

use super::control::BYE_REASON;
use super::delivery::count_chunk;
use super::feed::{feed, start_cursor, Feed};
use super::streaming::stream_headers;
use crate::api_error::ApiError;
use crate::conn::Conn;
use crate::params::Params;
use crate::state::AppState;

/// How long a browser waits before reconnecting.
const RETRY: Duration = Duration::from_millis(2000);

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
    st.metrics
        .t(Transport::Sse)
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let start = start_cursor(&st, since);
    let st2 = st.clone();
    let events = feed(st, since, p.filter, Transport::Sse, conn).flat_map(move |f| {
        let events = events(&f);
        let bytes: usize = events.iter().map(|(_, n)| n).sum();
        count_chunk(&st2, Transport::Sse, &f, bytes);
        futures_util::stream::iter(events.into_iter().map(|(e, _)| Ok::<_, Infallible>(e)))
    });
    let first = futures_util::stream::once(async { Ok(Event::default().retry(RETRY)) });
    let mut resp = Sse::new(first.chain(events)).into_response();
    stream_headers(&mut resp, "text/event-stream", start);
    Ok(resp)
}

/// The events of one feed item, each with its approximate wire size for the byte counter.
fn events(f: &Feed) -> Vec<(Event, usize)> {
    match f {
        Feed::Ticks { gap, ticks } => {
            let mut out = Vec::with_capacity(ticks.len() + 1);
            if let Some(g) = gap {
                let data = format!("{{\"from\":{},\"to\":{}}}", g.from, g.to);
                let n = data.len() + 20;
                out.push((Event::default().event("gap").data(data), n));
            }
            for (seq, json) in ticks {
                let data = std::str::from_utf8(json).unwrap_or_default();
                let n = data.len() + 30;
                out.push((Event::default().id(seq.to_string()).data(data), n));
            }
            out
        }
        Feed::Heartbeat(ts) => vec![(Event::default().comment(format!("hb {ts}")), 24)],
        Feed::Bye => vec![(Event::default().event("bye").data(BYE_REASON), 40)],
    }
}
