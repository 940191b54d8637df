//! The GRIP backend Pushpin proxies subscriber requests to, run inside `tickbench run`: it speaks
//! tickbench's own protocol (`/sse`, `/stream`, `/longpoll` with `since`, `symbols`, `timeout`,
//! `Last-Event-ID`), answering from the publisher's [`Journal`] with the catch-up a client needs
//! and a GRIP hold instruction for the rest, so tickbench's own client loops are Pushpin's clients.
//!
//! - Streams: `Grip-Hold: stream`, one `Grip-Channel` per watched channel with its `prev-id` (the
//!   last id published there), and a `Grip-Link` `rel=next` that Pushpin requests with `Grip-Last`
//!   when a published item does not follow the `prev-id` it holds (a tick it missed): the answer is
//!   the missed ticks. SSE items carry `id: <seq>`, so a client resumes with `Last-Event-ID`.
//! - Long-poll: the catch-up at once if there is one (and the cursor at once to a first request,
//!   which has none), else `Grip-Hold: response` with the empty batch as the timeout answer. A
//!   published item answers a hold on `_all` with its one-tick batch; a hold on several symbol
//!   channels gets a hint, and Pushpin re-asks the backend with the original request (its cursor):
//!   with content, a tick missed on one channel while the next came on another would be skipped
//!   by the answer's cursor. A tick missed on one channel shows as the next item's `prev-id`
//!   mismatch (Pushpin sequences every channel, see [`warm`](super::warm)) and is re-asked too.
//!
//! - WebSocket-over-HTTP requests (`application/websocket-events`) go to [`grip_ws`].
//! - `/_warm/sse`, `/_warm/stream`: the holds of [`warm`](super::warm), on every channel.
//!
//! Channels are named per format (`sse:AAPL`, `ndjson:AAPL`, `ws:AAPL`, long-poll rides on
//! `sse:`): one published item carries one `http-stream` content, and SSE and NDJSON need
//! different bytes. Ids are the journal's `<run>.<seq>` ([`Journal::id`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tickbench_wire::framing::{batch, Encoder, Ndjson, Sse};
use tokio_util::sync::CancellationToken;

use super::channels;
use super::grip_query::{json_error, parse_query, Query};
use super::grip_ws;
use super::journal::{Catchup, Journal};
use super::warm::{self, Warm};
use crate::error::Error;

/// SSE keep-alive Pushpin sends on an idle stream (a comment), as a C-escaped string.
const SSE_KEEP_ALIVE: &str = ":\\n\\n; format=cstring; timeout=15";
/// NDJSON keep-alive: an empty line, which the client skips.
const NDJSON_KEEP_ALIVE: &str = "\\n; format=cstring; timeout=15";

/// The stream formats the backend serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Sse,
    Ndjson,
}

impl Format {
    /// The prefix of this format's Pushpin channels.
    fn prefix(self) -> &'static str {
        match self {
            Format::Sse => "sse:",
            Format::Ndjson => "ndjson:",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Format::Sse => "/sse",
            Format::Ndjson => "/stream",
        }
    }
}

/// One tick to publish: its channel (symbol or [`ALL_CHANNEL`](super::ALL_CHANNEL)), seq, the
/// channel's previous seq in this run (`None`: its first) and JSON.
pub type PublishTick = (String, u64, Option<u64>, Arc<str>);

/// The body of one `POST /publish/` for `ticks`: for each, an `sse:` item (SSE content and the
/// long-poll batch), an `ndjson:` item and a `ws:` item (`ws-message`), ids from `journal`.
pub fn publish_items(journal: &Journal, ticks: &[PublishTick]) -> String {
    let mut items = Vec::with_capacity(ticks.len() * 3);
    for (channel, seq, prev, json) in ticks {
        let mut sse = Vec::new();
        Sse::tick(&mut sse, *seq, json.as_bytes());
        let mut batch_body = Vec::new();
        batch::encode(&mut batch_body, seq + 1, &[(*seq, json.as_bytes())], None);
        let id = journal.id(*seq);
        let with_ids = |mut item: serde_json::Value| {
            item["id"] = id.clone().into();
            if let Some(p) = prev {
                item["prev-id"] = journal.id(*p).into();
            }
            item
        };
        // A long-poll hold on one channel (`_all`) gets the tick itself: a tick it missed on
        // that channel shows as the next item's `prev-id` mismatch, and Pushpin re-asks the
        // backend. A hold on several symbol channels gets a hint (Pushpin re-asks the backend,
        // which answers from the client's cursor): with content, a tick missed on one channel
        // while the next arrives on another would be skipped by the answer's cursor.
        let response = if channel == super::ALL_CHANNEL {
            serde_json::json!({
                "headers": {"Content-Type": "application/json"},
                "body": String::from_utf8_lossy(&batch_body),
            })
        } else {
            serde_json::json!({"action": "hint"})
        };
        items.push(with_ids(serde_json::json!({
            "channel": format!("{}{channel}", Format::Sse.prefix()),
            "formats": {
                "http-stream": {"content": String::from_utf8_lossy(&sse)},
                "http-response": response,
            },
        })));
        items.push(with_ids(serde_json::json!({
            "channel": format!("{}{channel}", Format::Ndjson.prefix()),
            "formats": {"http-stream": {"content": format!("{json}\n")}},
        })));
        // No `prev-id`: a WebSocket session does not recover through the backend, its client
        // asks for what it missed (see `grip_ws`); sequencing would only delay the item.
        items.push(serde_json::json!({
            "channel": format!("{}{channel}", grip_ws::PREFIX),
            "id": id,
            "formats": {"ws-message": {"content": &**json}},
        }));
    }
    serde_json::json!({ "items": items }).to_string()
}

/// The running backend; dropping it stops it.
#[derive(Debug)]
pub struct GripBackend {
    addr: SocketAddr,
    cancel: CancellationToken,
    thread: Option<JoinHandle<()>>,
    /// The serving thread's id, so its CPU can be counted as the server's.
    pub tid: Option<u32>,
    warm: Arc<Warm>,
}

impl GripBackend {
    /// Serves on `127.0.0.1:port` (0: any free port). With `warm` (Pushpin's client URL and the
    /// tickbench server whose symbols are published), it also keeps Pushpin subscribed to every
    /// channel ([`warm`](super::warm)).
    pub fn start(
        port: u16,
        journal: Arc<Journal>,
        warm: Option<(String, String)>,
    ) -> Result<GripBackend, Error> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(Error::os(
            format!("binding the GRIP backend to 127.0.0.1:{port}"),
        ))?;
        listener
            .set_nonblocking(true)
            .map_err(Error::os("configuring the GRIP backend socket"))?;
        let addr = listener
            .local_addr()
            .map_err(Error::os("reading the GRIP backend address"))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::os("building the GRIP backend runtime"))?;
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let state = Arc::new(Warm::default());
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("grip-backend".into())
            .spawn(move || {
                let _ = tid_tx.send(thread_id());
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    if let Some((pushpin, source)) = warm {
                        tokio::spawn(warm::run(pushpin, source, st.clone()));
                    }
                    tokio::select! {
                        _ = c.cancelled() => {}
                        _ = accept_loop(listener, journal, st) => {}
                    }
                });
            })
            .map_err(Error::os("spawning the GRIP backend thread"))?;
        Ok(GripBackend {
            addr,
            cancel,
            thread: Some(thread),
            tid: tid_rx.recv().ok().flatten(),
            warm: state,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits (up to `limit`) until Pushpin holds the warm subscriptions; false if it did not.
    pub fn wait_warm(&self, limit: std::time::Duration) -> bool {
        self.warm.wait(limit)
    }
}

impl Drop for GripBackend {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// This thread's kernel id (`/proc/self/task/<tid>`), read from `/proc/thread-self`.
fn thread_id() -> Option<u32> {
    std::fs::read_link("/proc/thread-self")
        .ok()?
        .file_name()?
        .to_str()?
        .parse()
        .ok()
}

async fn accept_loop(listener: tokio::net::TcpListener, journal: Arc<Journal>, warm: Arc<Warm>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (journal, warm) = (journal.clone(), warm.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (journal, warm) = (journal.clone(), warm.clone());
                async move {
                    // WebSocket-over-HTTP: Pushpin POSTs the connection's events.
                    if grip_ws::is_events(&req) {
                        let (parts, body) = req.into_parts();
                        let body = match body.collect().await {
                            Ok(b) => b.to_bytes(),
                            Err(_) => return Ok(json_error(400, "unreadable request body")),
                        };
                        return Ok::<_, Infallible>(grip_ws::answer(&parts, &body, &journal));
                    }
                    Ok::<_, Infallible>(answer(&req, &journal, &warm))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer<B>(req: &Request<B>, journal: &Journal, warm: &Warm) -> Response<Full<Bytes>> {
    let q = match parse_query(req.uri().query()) {
        Ok(q) => q,
        Err(e) => return json_error(400, &e),
    };
    let watch = q.symbols.as_deref();
    let chans = channels(watch);
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let since = last_event_id.map(|id| id + 1).or(q.since);
    match req.uri().path() {
        "/sse" => stream(
            Format::Sse,
            journal.catchup(&chans, since),
            &q,
            true,
            journal,
        ),
        "/stream" => stream(
            Format::Ndjson,
            journal.catchup(&chans, since),
            &q,
            true,
            journal,
        ),
        "/next/sse" | "/next/stream" => {
            let format = if req.uri().path() == "/next/sse" {
                Format::Sse
            } else {
                Format::Ndjson
            };
            let last = grip_last(req, format, journal);
            stream(format, journal.after(&chans, &last), &q, false, journal)
        }
        "/_warm/sse" | "/_warm/stream" => {
            let format = if req.uri().path() == "/_warm/sse" {
                Format::Sse
            } else {
                Format::Ndjson
            };
            let Some(all) = warm.channels() else {
                return json_error(503, "the warm channel list is not known yet");
            };
            let names: Vec<&str> = all.iter().map(String::as_str).collect();
            // No catch-up, no `prev-id` and so no next link (Pushpin refuses a hold with
            // `prev-id`s and no next link): this session only keeps the channels subscribed.
            let mut c = journal.catchup(&names, None);
            c.prev_ids.iter_mut().for_each(|(_, id)| *id = None);
            let mut r = stream(format, c, &Query::default(), false, journal);
            r.headers_mut().remove("grip-link");
            r
        }
        "/longpoll" => {
            // Pushpin re-asks with the original request (after a hint or a `prev-id` mismatch),
            // so only a request with a cursor is held: a first one is answered at once with it.
            let hold = since.is_some();
            longpoll(
                journal.catchup(&chans, since),
                hold,
                q.timeout.unwrap_or(30),
                journal,
            )
        }
        "/healthz" => Response::new(Full::new(Bytes::from_static(b"ok\n"))),
        _ => json_error(404, "no such endpoint on the GRIP backend"),
    }
}

/// `Grip-Last: sse:AAPL; last-id=RUN.5` headers (one per channel, or comma-joined), without
/// prefix; ids of another run are left out.
fn grip_last<B>(req: &Request<B>, format: Format, journal: &Journal) -> Vec<(String, u64)> {
    req.headers()
        .get_all("grip-last")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| {
            let mut parts = entry.split(';');
            let name = parts
                .next()?
                .trim()
                .strip_prefix(format.prefix())?
                .to_string();
            let id = journal.seq_of(parts.find_map(|p| p.trim().strip_prefix("last-id="))?)?;
            Some((name, id))
        })
        .collect()
}

/// `Grip-Channel`: each channel with its last id of this run as `prev-id` (none before its first
/// tick of the run: Pushpin then takes whatever comes first).
fn grip_channels(format: Format, c: &Catchup, journal: &Journal) -> String {
    c.prev_ids
        .iter()
        .map(|(ch, id)| match id {
            Some(id) => format!("{}{ch}; prev-id={}", format.prefix(), journal.id(*id)),
            None => format!("{}{ch}", format.prefix()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn stream(
    format: Format,
    c: Catchup,
    q: &Query,
    first: bool,
    journal: &Journal,
) -> Response<Full<Bytes>> {
    let mut body = Vec::new();
    let ticks: Vec<(u64, &[u8])> = c.ticks.iter().map(|e| (e.seq, e.json.as_bytes())).collect();
    let (content_type, keep_alive) = match format {
        Format::Sse => {
            if first {
                Sse::preamble(&mut body);
            }
            Sse::ticks(&mut body, c.gap, &ticks);
            (Sse::CONTENT_TYPE, SSE_KEEP_ALIVE)
        }
        Format::Ndjson => {
            Ndjson::ticks(&mut body, c.gap, &ticks);
            (Ndjson::CONTENT_TYPE, NDJSON_KEEP_ALIVE)
        }
    };
    let mut next_link = format!("</next{}", format.path());
    if let Some(s) = &q.symbols {
        next_link.push_str("?symbols=");
        // A comma would split the header's link list: it travels percent-encoded.
        next_link.push_str(&s.join("%2C"));
    }
    next_link.push_str(">; rel=next");
    Response::builder()
        .header("content-type", content_type)
        .header("x-tickbench-next", c.next)
        .header("grip-hold", "stream")
        .header("grip-channel", grip_channels(format, &c, journal))
        .header("grip-link", next_link)
        .header("grip-keep-alive", keep_alive)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn longpoll(c: Catchup, hold: bool, timeout: u64, journal: &Journal) -> Response<Full<Bytes>> {
    let ticks: Vec<(u64, &[u8])> = c.ticks.iter().map(|e| (e.seq, e.json.as_bytes())).collect();
    let next = ticks.last().map_or(c.next, |(s, _)| s + 1).max(c.next);
    let mut body = Vec::new();
    batch::encode(&mut body, next, &ticks, c.gap);
    let mut r = Response::builder().header("content-type", "application/json");
    if hold && ticks.is_empty() && c.gap.is_none() {
        r = r
            .header("grip-hold", "response")
            .header("grip-channel", grip_channels(Format::Sse, &c, journal))
            .header("grip-timeout", timeout.clamp(1, 120));
    }
    r.body(Full::new(Bytes::from(body))).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_items() {
        let q = parse_query(Some("since=5&symbols=aapl,BRK.B%2C&timeout=3&_=1")).unwrap();
        assert_eq!(q.since, Some(5));
        assert_eq!(q.symbols.unwrap(), vec!["AAPL", "BRK.B", ""]);
        assert!(parse_query(Some("since=x")).is_err());
        let j = Journal::new(4);
        let body = publish_items(
            &j,
            &[
                ("AAPL".into(), 7, Some(3), Arc::from("{\"seq\":7}")),
                ("MSFT".into(), 8, None, Arc::from("{\"seq\":8}")),
            ],
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["items"][0]["channel"], "sse:AAPL");
        assert_eq!(v["items"][0]["prev-id"], j.id(3));
        assert_eq!(v["items"][0]["id"], j.id(7));
        assert_eq!(v["items"][2]["channel"], "ws:AAPL");
        assert_eq!(
            v["items"][2]["formats"]["ws-message"]["content"],
            "{\"seq\":7}"
        );
        assert!(
            v["items"][3].get("prev-id").is_none(),
            "first tick of its channel"
        );
        assert_eq!(
            v["items"][1]["formats"]["http-stream"]["content"],
            "{\"seq\":7}\n"
        );
    }
}
