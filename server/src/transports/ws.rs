//! `GET /ws`: the WebSocket transport. The query is checked (JSON 400) before the upgrade; then
//! one text message per tick, control frames and catch-up batches as JSON text messages
//! ([`tickbench_wire::framing::ws`]), and subscribe/unsubscribe ops from the client that change
//! the watchlist live.
//!
//! The session reads the journal through the same [`feed`] as every HTTP stream, so gap notices,
//! heartbeats, `bye`, the metrics and the slow-consumer reset ([`ConnCtl`]) behave the same. It
//! runs in one task, which never queues more than one feed item: the next item is read from the
//! journal only when the socket has taken the last one, so what a slow reader pins is the
//! library's small buffers below plus one item, whatever the tick rate.
//!
//! axum's WebSocket support (tokio-tungstenite underneath) with its buffers cut from 128 KiB to a
//! few KiB ([`READ_BUFFER`], [`WRITE_BUFFER`], [`MAX_WRITE_BUFFER`]): an idle session then costs
//! a task and a few KiB, which `docs/protocol.md` shows how to measure.
//!
//! Bad input never panics and always closes with a code and a reason: a protocol violation
//! 1002, binary data 1003, non-UTF-8 or an unknown op 1007, a refused op (unknown symbol) 1008,
//! more than 16 KiB 1009; a client that answered none of the last two pings 1008; shutdown 1001
//! after the `bye` message.

use std::collections::{BTreeSet, VecDeque};
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{Sink, Stream, StreamExt};
use tickbench_wire::framing::ws::{self as frames, close, Op, OpError, BATCH_BYTES};
use tickbench_wire::{now_micros, Control, Transport};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};

use super::feed::{feed, start_cursor, Feed};
use crate::api_error::ApiError;
use crate::conn::{Conn, ConnCtl};
use crate::journal::SymFilter;
use crate::params::Params;
use crate::state::AppState;

/// The library's read buffer per connection (its default is 128 KiB).
pub const READ_BUFFER: usize = 4 * 1024;
/// Bytes of outgoing frames gathered before they are written (its default is 128 KiB); each
/// feed item is flushed at once anyway.
pub const WRITE_BUFFER: usize = 4 * 1024;
/// Most bytes of outgoing frames held for a slow reader: above [`WRITE_BUFFER`] plus the largest
/// message (a catch-up batch of [`BATCH_BYTES`] of ticks).
pub const MAX_WRITE_BUFFER: usize = 32 * 1024;
/// How long a close handshake may take before the socket is just dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

const T: Transport = Transport::Ws;

pub async fn handler(
    State(st): State<Arc<AppState>>,
    conn: Conn,
    p: Params,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(rejected)?;
    st.metrics.t(T).requests.fetch_add(1, Relaxed);
    let ctl = conn.map(|c| c.0);
    let session = ctl.as_ref().map(|c| c.session_started());
    let start = start_cursor(&st, p.since);
    let mut resp = upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(frames::MAX_CLIENT_MESSAGE)
        .max_frame_size(frames::MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| async move {
            let _session = session;
            Session::new(st, ctl, start, p.symbols).run(socket).await;
        });
    resp.headers_mut().insert(
        HeaderName::from_static("x-tickbench-next"),
        HeaderValue::from(start),
    );
    Ok(resp)
}

/// A request to `/ws` that is not a WebSocket handshake: the protocol's JSON 400, naming the
/// header at fault.
fn rejected(r: WebSocketUpgradeRejection) -> ApiError {
    let param = match &r {
        WebSocketUpgradeRejection::WebSocketKeyHeaderMissing(_) => "Sec-WebSocket-Key",
        WebSocketUpgradeRejection::InvalidWebSocketVersionHeader(_) => "Sec-WebSocket-Version",
        WebSocketUpgradeRejection::InvalidConnectionHeader(_) => "Connection",
        WebSocketUpgradeRejection::InvalidUpgradeHeader(_) => "Upgrade",
        _ => "method",
    };
    ApiError::param(param, r.body_text())
}

type Tx = SplitSink<WebSocket, Message>;

/// One WebSocket session: the cursor, the watchlist, and the messages on their way out.
struct Session {
    st: Arc<AppState>,
    ctl: Option<Arc<ConnCtl>>,
    /// The next seq the client needs: past every tick sent and every gap declared.
    cursor: u64,
    /// Symbol ids watched; `None` = every symbol.
    watch: Option<BTreeSet<u32>>,
    /// The journal head when the session opened: ticks before it are a catch-up and go out in
    /// batches; every later one in its own message.
    catch_up_end: u64,
    /// Encoded messages the socket has not taken yet (at most one feed item, an ack, a ping).
    out: VecDeque<Message>,
    /// Pings sent since the last pong.
    unanswered: u32,
}

/// How a session ends.
enum End {
    /// Close with this code and reason (and wait for the client's close, briefly).
    Close(u16, String),
    /// The client closed, went away or broke the connection: nothing more to send.
    Gone,
    /// The connection is being reset (slow consumer): drop the socket, which sends RST.
    Reset,
}

impl Session {
    fn new(
        st: Arc<AppState>,
        ctl: Option<Arc<ConnCtl>>,
        start: u64,
        syms: Option<Vec<u32>>,
    ) -> Self {
        Session {
            catch_up_end: st.journal.next_seq(),
            st,
            ctl,
            cursor: start,
            watch: syms.map(|ids| ids.into_iter().collect()),
            out: VecDeque::new(),
            unanswered: 0,
        }
    }

    fn filter(&self) -> SymFilter {
        match &self.watch {
            None => SymFilter::all(),
            Some(ids) => SymFilter::of(
                &ids.iter().copied().collect::<Vec<_>>(),
                self.st.universe.len(),
            ),
        }
    }

    fn open_feed(&self) -> Pin<Box<dyn Stream<Item = Feed> + Send>> {
        let conn = self.ctl.clone().map(axum::Extension);
        Box::pin(feed(self.st.clone(), self.cursor, self.filter(), T, conn))
    }

    async fn run(mut self, socket: WebSocket) {
        let (mut tx, mut rx) = socket.split();
        let hb = self.st.config.heartbeat;
        let max_behind = self.st.config.stream_max_behind;
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + hb, hb);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut watch = tokio::time::interval(
            (max_behind / 4).clamp(Duration::from_millis(50), Duration::from_secs(5)),
        );
        let ctl = self.ctl.clone();
        let mut items = self.open_feed();
        let end = loop {
            tokio::select! {
                biased;
                m = rx.next() => match m {
                    None => break End::Gone,
                    Some(Ok(m)) => match self.received(m) {
                        Ok(Some(reopen)) => {
                            if reopen {
                                items = self.open_feed();
                            }
                        }
                        Ok(None) => break End::Gone,
                        Err(e) => break End::Close(e.code, e.reason),
                    },
                    Some(Err(e)) => break failed(e),
                },
                _ = reset_asked(ctl.as_deref()) => break End::Reset,
                _ = watch.tick(), if ctl.is_some() && !max_behind.is_zero() => {
                    if ctl.as_ref().is_some_and(|c| c.cut_if_behind(max_behind, &self.st.metrics)) {
                        break End::Reset;
                    }
                }
                _ = ping.tick() => {
                    if self.unanswered >= 2 {
                        break End::Close(close::POLICY, "no pong to the last 2 pings".into());
                    }
                    self.unanswered += 1;
                    self.out.push_front(Message::Ping(now_micros().to_string().into()));
                }
                r = send_all(&mut tx, &mut self.out), if !self.out.is_empty() => {
                    if r.is_err() {
                        break End::Gone;
                    }
                }
                item = items.next(), if self.out.is_empty() => match item {
                    None | Some(Feed::Bye) => {
                        self.out.push_back(text(Control::bye().to_json()));
                        break End::Close(close::GOING_AWAY, Control::BYE_REASON.into());
                    }
                    Some(f) => self.encode(&f),
                },
            }
        };
        drop(items);
        match end {
            End::Gone | End::Reset => {}
            End::Close(code, reason) => {
                let frame = CloseFrame {
                    code,
                    reason: Utf8Bytes::from(frames::close_reason(&reason)),
                };
                self.out.push_back(Message::Close(Some(frame)));
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                    if send_all(&mut tx, &mut self.out).await.is_ok() {
                        // Read until the client's close (or anything that ends the stream), so
                        // the socket is not closed with unread data, which would be an RST.
                        while let Some(Ok(_)) = rx.next().await {}
                    }
                })
                .await;
            }
        }
    }

    /// Handles one message from the client: `Ok(Some(true))` when the watchlist changed and the
    /// feed must be reopened, `Ok(None)` when the client closed.
    fn received(&mut self, m: Message) -> Result<Option<bool>, OpError> {
        match m {
            Message::Text(t) => {
                let op = Op::parse(t.as_str())?;
                self.apply(&op)?;
                self.out
                    .push_back(text(frames::ack(op.name(), self.cursor)));
                Ok(Some(true))
            }
            Message::Binary(_) => Err(OpError::new(
                close::UNSUPPORTED,
                "binary messages are not part of the protocol",
            )),
            Message::Pong(_) => {
                self.unanswered = 0;
                Ok(Some(false))
            }
            // The library answers pings itself.
            Message::Ping(_) => Ok(Some(false)),
            Message::Close(_) => Ok(None),
        }
    }

    /// Changes the watchlist; an unknown symbol refuses the whole op.
    fn apply(&mut self, op: &Op) -> Result<(), OpError> {
        let mut ids = Vec::with_capacity(op.symbols().len());
        for name in op.symbols() {
            match self.st.universe.lookup(&name.trim().to_ascii_uppercase()) {
                Some(id) => ids.push(id),
                None => {
                    let shown: String = name.chars().take(32).collect();
                    return Err(OpError::new(
                        close::POLICY,
                        format!("unknown symbol '{shown}'"),
                    ));
                }
            }
        }
        match op {
            Op::Subscribe { .. } => {
                if let Some(w) = &mut self.watch {
                    w.extend(ids);
                }
            }
            Op::Unsubscribe { .. } => {
                let w = self
                    .watch
                    .get_or_insert_with(|| (0..self.st.universe.len() as u32).collect());
                for id in ids {
                    w.remove(&id);
                }
            }
        }
        Ok(())
    }

    /// Queues one feed item's messages and counts them as the HTTP streams count their chunks.
    fn encode(&mut self, f: &Feed) {
        let m = &self.st.metrics.t(T);
        let before = self.out.len();
        let mut bytes = 0;
        match f {
            Feed::Ticks { gap, ticks } => {
                if let Some(g) = gap {
                    self.cursor = self.cursor.max(g.to + 1);
                }
                if let Some((last, _)) = ticks.last() {
                    self.cursor = self.cursor.max(last + 1);
                }
                // Catch-up: batches of a few KiB, the gap notice in the first; from the head at
                // the session's start on, one message per tick.
                let old = ticks.partition_point(|(seq, _)| *seq < self.catch_up_end);
                let mut gap = *gap;
                if old > 1 {
                    let mut rest = &ticks[..old];
                    while !rest.is_empty() {
                        let mut n = 0;
                        let mut size = 0;
                        while n < rest.len() && (n == 0 || size + rest[n].1.len() <= BATCH_BYTES) {
                            size += rest[n].1.len();
                            n += 1;
                        }
                        let next = match rest.get(n).or(ticks.get(old)) {
                            Some((seq, _)) => *seq,
                            None => self.cursor,
                        };
                        let b = frames::batch(next, &rest[..n], gap.take());
                        bytes += b.len();
                        self.out.push_back(Message::Text(utf8(b.into())));
                        rest = &rest[n..];
                    }
                }
                if let Some(g) = gap {
                    let c = frames::control(&Control::Gap(g));
                    bytes += c.len();
                    self.out.push_back(text(c));
                }
                for (_, json) in &ticks[if old > 1 { old } else { 0 }..] {
                    bytes += json.len();
                    self.out.push_back(Message::Text(utf8(json.clone())));
                }
                m.deliveries.fetch_add(ticks.len() as u64, Relaxed);
                if gap.is_some() {
                    m.gaps.fetch_add(1, Relaxed);
                }
            }
            Feed::Heartbeat(ts) => {
                let c = frames::control(&Control::Heartbeat(*ts));
                bytes += c.len();
                self.out.push_back(text(c));
            }
            Feed::Bye => {}
        }
        // A WebSocket frame header is 2 bytes for a tick-sized message, 4 up to 64 KiB.
        let frames_sent = self.out.len() - before;
        m.bytes.fetch_add((bytes + 4 * frames_sent) as u64, Relaxed);
    }
}

fn text(s: String) -> Message {
    Message::Text(Utf8Bytes::from(s))
}

/// The journal holds the JSON the producer encoded with serde_json, which is UTF-8.
fn utf8(b: bytes::Bytes) -> Utf8Bytes {
    Utf8Bytes::try_from(b).unwrap_or_else(|_| Utf8Bytes::from_static("{}"))
}

/// The close a read error earns.
fn failed(e: axum::Error) -> End {
    let Ok(e) = e.into_inner().downcast::<WsError>() else {
        return End::Gone;
    };
    match *e {
        WsError::Capacity(c) => {
            let reason = match c {
                CapacityError::MessageTooLong { size, max_size } => {
                    format!("message of {size} bytes, over the {max_size}-byte limit")
                }
                other => other.to_string(),
            };
            End::Close(close::TOO_BIG, reason)
        }
        WsError::Utf8(_) => End::Close(close::INVALID_PAYLOAD, "text message is not UTF-8".into()),
        WsError::Protocol(p) => match p {
            ProtocolError::ResetWithoutClosingHandshake => End::Gone,
            other => End::Close(close::PROTOCOL, other.to_string()),
        },
        // The connection broke (I/O), or is already closed: nobody to tell.
        _ => End::Gone,
    }
}

/// Hands every queued message to the socket and flushes. Cancel-safe: a message leaves the queue
/// only in the same poll that gives it to the socket, and a flush can be resumed.
async fn send_all(tx: &mut Tx, out: &mut VecDeque<Message>) -> Result<(), axum::Error> {
    poll_fn(|cx| {
        while !out.is_empty() {
            std::task::ready!(Pin::new(&mut *tx).poll_ready(cx))?;
            if let Some(m) = out.pop_front() {
                Pin::new(&mut *tx).start_send(m)?;
            }
        }
        Pin::new(&mut *tx).poll_flush(cx)
    })
    .await
}

/// Resolves when a reset of the connection was asked; never without a connection handle.
async fn reset_asked(ctl: Option<&ConnCtl>) {
    match ctl {
        Some(c) => c.reset_asked().await,
        None => std::future::pending().await,
    }
}
