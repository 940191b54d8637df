//! The WebSocket client loop (`GET /ws`): open a WebSocket (tokio-tungstenite) from the cursor,
//! decode each text message with [`tickbench_wire::framing::ws`], deliver ticks, batches and gap
//! notices through the shared paths, and on any end (`bye` and close 1001, EOF, stall, error)
//! reconnect from the cursor with backoff, as the HTTP streams do.
//!
//! One TCP connection per session, opened here rather than by reqwest (which does not speak
//! WebSocket): from the client's source address, and for a slow consumer with the small receive
//! buffer of [`slowlink`](super::slowlink), so its backlog waits at the server. The library
//! answers the server's pings while the loop reads; a slow consumer reads (and so answers) at
//! its slow pace, like a browser tab whose event loop is busy.
//!
//! `wss://` (the server's URL is `https://`) speaks TLS with the run's trust (the pinned
//! fingerprint, `--ca`, `--insecure` or the web roots), offering ALPN `http/1.1` only: the
//! upgrade is HTTP/1.1's even when the HTTP transports of the run speak HTTP/2.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tickbench_wire::framing::ws::{close, decode_into, DownRef};
use tickbench_wire::framing::{Frame, Next};
use tickbench_wire::{now_micros, Transport};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tokio_util::either::Either;

use super::http::Connection;

use super::http::{retry_after, CONNECT_TIMEOUT};
use super::sink::{ErrorKind, Sink};
use super::slowlink::SLOW_RCVBUF;
use super::state::ClientState;
use super::streaming::NEXT_HEADER;

/// The client's read buffer (the library's default is 128 KiB): server messages are a tick
/// (~150 bytes) or a catch-up batch of a few KiB.
pub const READ_BUFFER: usize = 4 * 1024;

/// A session's socket: plain TCP (`ws://`) or TLS over it (`wss://`). The TLS state is boxed:
/// over a kilobyte that would otherwise sit in every plaintext client's future as well.
type WsIo = Either<TcpStream, Box<tokio_rustls::client::TlsStream<TcpStream>>>;

/// How one session ended.
enum End {
    /// The server said goodbye (`bye`, close 1001) or closed normally.
    Bye,
    Failed(ErrorKind),
}

pub(crate) async fn run<S: Sink>(c: &mut ClientState<S>) {
    let stall = c.cfg.stream_timeout.max(Duration::from_secs(1));
    let tls = match &c.cfg.connection {
        Connection::Own(spec) => spec.tls_http1(),
        // Tabs share HTTP/2 connections, which carry no WebSocket: the population gives ws
        // clients their own.
        Connection::Shared(_) => None,
    };
    loop {
        c.begin_url(Transport::Ws.path());
        let url = ws_url(&c.url);
        c.sink.request();
        let slow = c.cfg.read_rate.is_some();
        // Boxed: the TLS handshake's state is kilobytes, and every client's future (whatever
        // its transport) would otherwise be as large as this one's largest await.
        let opening = Box::pin(open(&url, c.cfg.local_addr, slow, tls.as_ref()));
        let mut ws = match timeout(stall, opening).await {
            Err(_) => {
                c.fail(ErrorKind::Timeout.into()).await;
                continue;
            }
            Ok(Err(Refused::Kind(kind))) => {
                c.fail(kind.into()).await;
                continue;
            }
            Ok(Err(Refused::Status(resp))) => {
                let status = resp.status().as_u16();
                let body = resp.body().as_deref().filter(|_| status == 400);
                let f = c.failure_from(status, retry_after(resp.headers()), body);
                c.fail(f).await;
                continue;
            }
            Ok(Ok((ws, resp))) => {
                if !c.same_stream(resp.headers()) {
                    c.lost();
                    continue;
                }
                if c.cursor.is_none() {
                    c.cursor = resp
                        .headers()
                        .get(NEXT_HEADER)
                        .and_then(|v| v.to_str().ok()?.parse().ok());
                }
                ws
            }
        };
        c.established();
        let end = session(c, &mut ws, stall).await;
        drop(ws);
        match end {
            End::Bye => c.closed().await,
            End::Failed(kind) => c.fail(kind.into()).await,
        }
    }
}

/// Reads one session's messages until it ends.
async fn session<S: Sink>(
    c: &mut ClientState<S>,
    ws: &mut WebSocketStream<WsIo>,
    stall: Duration,
) -> End {
    let mut next_read = tokio::time::Instant::now();
    loop {
        if c.cfg.read_rate.as_ref().is_some_and(|r| r.get() > 0) {
            // A slow consumer: the socket is not read until the last message's time at the slow
            // rate has passed (see the HTTP streams' loop).
            tokio::time::sleep_until(next_read).await;
        }
        let m = match timeout(stall, ws.next()).await {
            Err(_) => return End::Failed(ErrorKind::Timeout),
            Ok(None) => return End::Failed(ErrorKind::Io),
            Ok(Some(Err(e))) => return End::Failed(kind_of(&e)),
            Ok(Some(Ok(m))) => m,
        };
        let text = match m {
            Message::Text(t) => t,
            Message::Close(f) => {
                // 1001 is the server's shutdown; anything else it refused (or a proxy cut).
                return match f.map(|f| u16::from(f.code)) {
                    Some(close::GOING_AWAY | close::NORMAL) => End::Bye,
                    _ => End::Failed(ErrorKind::Io),
                };
            }
            // Pings are answered by the library; no binary is sent.
            Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {
                continue
            }
        };
        c.sink.bytes(text.len() as u64);
        if let Some(rate) = &c.cfg.read_rate {
            next_read = next_read.max(tokio::time::Instant::now()) + rate.time_for(text.len());
        }
        // Each tick is decoded into the client's one `Tick` (see `ClientState::tick`): no
        // allocation per delivery, as on the HTTP streams.
        match decode_into(text.as_bytes(), &mut c.tick) {
            Ok(DownRef::Next(Next::Tick)) => {
                let recv_us = now_micros();
                c.deliver_tick(recv_us);
            }
            Ok(DownRef::Next(Next::Frame(Frame::Tick(t)))) => {
                // Not produced by `decode_into` (it decodes into `c.tick`); kept exact.
                *c.tick = t;
                c.deliver_tick(now_micros());
            }
            Ok(DownRef::Next(Next::Frame(Frame::Gap(g)))) => c.gap(g),
            Ok(DownRef::Next(Next::Frame(Frame::Bye(_) | Frame::End))) => return End::Bye,
            Ok(DownRef::Next(Next::Frame(Frame::Heartbeat(_) | Frame::Retry(_))))
            | Ok(DownRef::Ack(_)) => {}
            Ok(DownRef::Batch(b)) => {
                // A catch-up: the ticks arrived together and share one receive time.
                let recv_us = now_micros();
                if let Some(g) = b.gap {
                    c.gap(g);
                }
                for t in &b.ticks {
                    t.write_into(&mut c.tick);
                    c.deliver_tick(recv_us);
                }
                c.cursor = Some(c.cursor.map_or(b.next, |cur| cur.max(b.next)));
            }
            Err(_) => return End::Failed(ErrorKind::Parse),
        }
    }
}

/// `http://…/ws?…` as `ws://…` (`https` as `wss`).
fn ws_url(http: &str) -> String {
    match http.strip_prefix("http") {
        Some(rest) => format!("ws{rest}"),
        None => http.to_string(),
    }
}

/// Why a WebSocket could not be opened.
enum Refused {
    /// The server answered the handshake with this (non-101) response.
    Status(Box<hyper::Response<Option<Vec<u8>>>>),
    Kind(ErrorKind),
}

/// Connects (from `local`, with a small receive buffer when `slow`; over TLS with `tls`) and
/// does the handshake.
async fn open(
    url: &str,
    local: Option<IpAddr>,
    slow: bool,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<
    (
        WebSocketStream<WsIo>,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    Refused,
> {
    let refused = |k| Refused::Kind(k);
    let u = reqwest::Url::parse(url).map_err(|_| refused(ErrorKind::Connect))?;
    let host = u.host_str().ok_or(refused(ErrorKind::Connect))?;
    let port = u
        .port_or_known_default()
        .ok_or(refused(ErrorKind::Connect))?;
    let addr: SocketAddr = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|_| refused(ErrorKind::Connect))?
        .next()
        .ok_or(refused(ErrorKind::Connect))?;
    let sock = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|_| refused(ErrorKind::Connect))?;
    if slow {
        sock.set_recv_buffer_size(SLOW_RCVBUF)
            .map_err(|_| refused(ErrorKind::Connect))?;
    }
    sock.set_nodelay(true)
        .map_err(|_| refused(ErrorKind::Connect))?;
    if let Some(ip) = local {
        sock.bind(SocketAddr::new(ip, 0))
            .map_err(|_| refused(ErrorKind::Connect))?;
    }
    let tcp = match timeout(CONNECT_TIMEOUT, sock.connect(addr)).await {
        Err(_) => return Err(refused(ErrorKind::Timeout)),
        Ok(Err(_)) => return Err(refused(ErrorKind::Connect)),
        Ok(Ok(s)) => s,
    };
    let io: WsIo = match tls {
        None => Either::Left(tcp),
        Some(cfg) => {
            let name =
                rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                    .map_err(|_| refused(ErrorKind::Connect))?;
            let connector = tokio_rustls::TlsConnector::from(cfg.clone());
            match connector.connect(name, tcp).await {
                Ok(s) => Either::Right(Box::new(s)),
                Err(_) => return Err(refused(ErrorKind::Connect)),
            }
        }
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);
    tokio_tungstenite::client_async_with_config(url, io, Some(config))
        .await
        .map_err(|e| match e {
            WsError::Http(resp) => Refused::Status(resp),
            other => refused(kind_of(&other)),
        })
}

/// The error kind of a failed handshake or read.
fn kind_of(e: &WsError) -> ErrorKind {
    match e {
        WsError::Utf8(_) | WsError::Protocol(_) | WsError::Capacity(_) => ErrorKind::Parse,
        WsError::Http(r) => ErrorKind::Status(r.status().as_u16()),
        _ => ErrorKind::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            ws_url("http://127.0.0.1:1/ws?since=3"),
            "ws://127.0.0.1:1/ws?since=3"
        );
        assert_eq!(ws_url("https://h/ws"), "wss://h/ws");
    }
}
