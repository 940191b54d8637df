//! The GRIP backend's WebSocket side: Pushpin turns each client WebSocket into
//! WebSocket-over-HTTP, POSTing the connection's events (`application/websocket-events`) to the
//! backend, which answers with events of its own.
//!
//! - `OPEN`: answered `OPEN` with `Sec-WebSocket-Extensions: grip`, then one control message
//!   `c:{"type":"subscribe","channel":"ws:SYM"}` per watched channel. Published items carry a
//!   `ws-message` for the `ws:` channels, one tick's JSON per message, as `/ws` sends it.
//! - A client resuming from cursor `N` cannot get its catch-up with the `OPEN` answer: a tick
//!   published after the backend read the journal but before Pushpin subscribed the connection
//!   would be lost. So it waits for its first live tick `S` (the subscription is then active, and
//!   every later tick follows it), and sends `{"catchup":{"since":N,"until":S}}`; the answer is the
//!   journal's ticks in `[N, S)` on its channels as catch-up batches (`{"next":..,"ticks":..}`,
//!   [`ws::batch`](tickbench_wire::framing::ws::batch)). The client delivers them before the live
//!   ticks it buffered meanwhile.
//! - Any other text: `CLOSE` with 1008 and the reason; `CLOSE` from the client is echoed.

use bytes::Bytes;
use http_body_util::Full;
use hyper::http::request::Parts;
use hyper::{Request, Response};
use serde::{Deserialize, Serialize};
use tickbench_wire::framing::ws;

use super::channels;
use super::grip_query::parse_query;
use super::journal::Journal;

/// The prefix of the `ws:` channels.
pub const PREFIX: &str = "ws:";

/// Content type of WebSocket-over-HTTP bodies.
const EVENTS: &str = "application/websocket-events";

/// Most ticks in one catch-up message (each ~150 bytes: about [`ws::BATCH_BYTES`]).
const BATCH_TICKS: usize = 50;

/// The client's one message: what it missed before its first live tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchupAsk {
    pub since: u64,
    pub until: u64,
}

#[derive(Serialize, Deserialize)]
struct CatchupMsg {
    catchup: CatchupAsk,
}

impl CatchupAsk {
    /// The text message a client sends.
    pub fn encode(&self) -> String {
        serde_json::to_string(&CatchupMsg { catchup: *self }).unwrap_or_default()
    }

    fn parse(text: &[u8]) -> Option<CatchupAsk> {
        serde_json::from_slice::<CatchupMsg>(text)
            .ok()
            .map(|m| m.catchup)
    }
}

/// Whether `req` is a WebSocket-over-HTTP event request.
pub fn is_events<B>(req: &Request<B>) -> bool {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(EVENTS))
}

/// One event of a WebSocket-over-HTTP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Open,
    Text(&'a [u8]),
    Close(&'a [u8]),
    /// `BINARY`, `PING`, `PONG`, `DISCONNECT`: nothing to answer.
    Other,
}

/// Splits a body into its events (`TYPE[ HEXLEN]\r\n[CONTENT\r\n]`); `None` if malformed.
pub fn events(mut body: &[u8]) -> Option<Vec<Event<'_>>> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&body[..eol]).ok()?;
        body = &body[eol + 2..];
        let (kind, len) = match line.split_once(' ') {
            Some((k, l)) => (k, Some(usize::from_str_radix(l, 16).ok()?)),
            None => (line, None),
        };
        let content: &[u8] = match len {
            Some(n) => {
                let c = body.get(..n)?;
                body = body.get(n + 2..)?;
                c
            }
            None => &[],
        };
        out.push(match kind {
            "OPEN" => Event::Open,
            "TEXT" => Event::Text(content),
            "CLOSE" => Event::Close(content),
            _ => Event::Other,
        });
    }
    Some(out)
}

fn push_event(out: &mut Vec<u8>, kind: &str, content: &[u8]) {
    out.extend_from_slice(format!("{kind} {:x}\r\n", content.len()).as_bytes());
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n");
}

fn close_event(out: &mut Vec<u8>, code: u16, reason: &str) {
    let mut c = code.to_be_bytes().to_vec();
    c.extend_from_slice(ws::close_reason(reason).as_bytes());
    push_event(out, "CLOSE", &c);
}

/// Answers one event request of the connection opened at `parts.uri`.
pub fn answer(parts: &Parts, body: &[u8], journal: &Journal) -> Response<Full<Bytes>> {
    let mut out = Vec::new();
    let mut opened = false;
    let q = match parse_query(parts.uri.query()) {
        Ok(q) => q,
        Err(e) => {
            close_event(&mut out, ws::close::POLICY, &e);
            return reply(out, false);
        }
    };
    let chans = channels(q.symbols.as_deref());
    let Some(events) = events(body) else {
        close_event(
            &mut out,
            ws::close::PROTOCOL,
            "malformed websocket-events body",
        );
        return reply(out, false);
    };
    for ev in events {
        match ev {
            Event::Open => {
                opened = true;
                out.extend_from_slice(b"OPEN\r\n");
                for ch in &chans {
                    let control = serde_json::json!({
                        "type": "subscribe",
                        "channel": format!("{PREFIX}{ch}"),
                    });
                    push_event(&mut out, "TEXT", format!("c:{control}").as_bytes());
                }
            }
            Event::Text(text) => match CatchupAsk::parse(text) {
                Some(ask) => {
                    let c = journal.catchup(&chans, Some(ask.since));
                    let ticks: Vec<(u64, &[u8])> = c
                        .ticks
                        .iter()
                        .take_while(|e| e.seq < ask.until)
                        .map(|e| (e.seq, e.json.as_bytes()))
                        .collect();
                    let next = ask.until.min(c.next);
                    let mut gap = c.gap;
                    let mut chunks = ticks.chunks(BATCH_TICKS).peekable();
                    if chunks.peek().is_none() {
                        push_event(&mut out, "TEXT", &ws::batch(next, &ticks, gap));
                    }
                    while let Some(chunk) = chunks.next() {
                        let n = match chunks.peek() {
                            Some(more) => more[0].0,
                            None => next,
                        };
                        push_event(&mut out, "TEXT", &ws::batch(n, chunk, gap.take()));
                    }
                }
                None => close_event(
                    &mut out,
                    ws::close::POLICY,
                    "expected {\"catchup\":{\"since\":N,\"until\":S}}",
                ),
            },
            Event::Close(content) => push_event(&mut out, "CLOSE", content),
            Event::Other => {}
        }
    }
    reply(out, opened)
}

fn reply(body: Vec<u8>, opened: bool) -> Response<Full<Bytes>> {
    let mut r = Response::builder().header("content-type", EVENTS);
    if opened {
        r = r.header("sec-websocket-extensions", "grip");
    }
    r.body(Full::new(Bytes::from(body))).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn events_and_answers() {
        let body = b"OPEN\r\nTEXT 5\r\nhello\r\nCLOSE 2\r\n\x03\xe8\r\nDISCONNECT\r\n";
        let ev = events(body).unwrap();
        assert_eq!(
            ev,
            vec![
                Event::Open,
                Event::Text(b"hello"),
                Event::Close(b"\x03\xe8"),
                Event::Other
            ]
        );
        assert!(events(b"TEXT 9\r\nshort\r\n").is_none());

        let j = Journal::new(10);
        for (seq, sym) in [(1, "A"), (2, "B"), (3, "A"), (4, "A")] {
            j.append(seq, sym, Arc::from(format!("{{\"seq\":{seq}}}")));
        }
        let (parts, _) = Request::builder()
            .uri("/ws?symbols=A")
            .body(())
            .unwrap()
            .into_parts();
        let r = answer(&parts, b"OPEN\r\n", &j);
        assert_eq!(r.headers()["sec-websocket-extensions"], "grip");
        let ask = CatchupAsk { since: 1, until: 4 }.encode();
        let body = format!("TEXT {:x}\r\n{ask}\r\n", ask.len());
        let r = answer(&parts, body.as_bytes(), &j);
        let bytes =
            futures_util::FutureExt::now_or_never(http_body_util::BodyExt::collect(r.into_body()))
                .unwrap()
                .unwrap()
                .to_bytes();
        let ev = events(&bytes).unwrap();
        let Event::Text(t) = ev[0] else { panic!() };
        let b: serde_json::Value = serde_json::from_slice(t).unwrap();
        assert_eq!(b["next"], 4);
        assert_eq!(
            b["ticks"].as_array().map(Vec::len),
            Some(2),
            "ticks 1 and 3 of A, before 4: {b}"
        );
        let r = answer(&parts, b"TEXT 2\r\nhi\r\n", &j);
        let bytes =
            futures_util::FutureExt::now_or_never(http_body_util::BodyExt::collect(r.into_body()))
                .unwrap()
                .unwrap()
                .to_bytes();
        assert!(
            bytes.starts_with(b"CLOSE "),
            "bad input closes with a reason"
        );
    }
}
