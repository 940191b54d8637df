//! Nchan's WebSocket subscriber with the `ws+meta.nchan` subprotocol: each message is
//! `id: <message id>\n[content-type: …\n]\n<data>`, so the client knows the id to resume from and
//! sends it back as `Last-Event-ID` on the next handshake (Nchan reads `$http_last_event_id`), as
//! its EventSource clients do. Also [`connect`], the plain-TCP WebSocket handshake with extra
//! headers both peers' WebSocket clients use.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::StreamExt;
use tickbench_wire::framing::decode_tick_into;
use tickbench_wire::now_micros;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::super::http::CONNECT_TIMEOUT;
use super::super::sink::{ErrorKind, Sink};
use super::super::state::ClientState;
use super::super::ws::READ_BUFFER;
use crate::targets::nchan::Cursor;

/// The subprotocol whose messages carry their id.
pub const META_PROTOCOL: &str = "ws+meta.nchan";

/// `http://…` as `ws://…`.
pub fn ws_url(http: &str) -> String {
    match http.strip_prefix("http") {
        Some(rest) => format!("ws{rest}"),
        None => http.to_string(),
    }
}

/// Opens a WebSocket to `url` (`ws://` only: the peers run plaintext on loopback) from `local`,
/// with `headers` on the handshake.
pub(crate) async fn connect(
    url: &str,
    local: Option<IpAddr>,
    headers: &[(&'static str, String)],
) -> Result<WebSocketStream<TcpStream>, ErrorKind> {
    let mut req = url.into_client_request().map_err(|_| ErrorKind::Connect)?;
    for (k, v) in headers {
        let v = HeaderValue::from_str(v).map_err(|_| ErrorKind::Connect)?;
        req.headers_mut().insert(*k, v);
    }
    let u = reqwest::Url::parse(url).map_err(|_| ErrorKind::Connect)?;
    let host = u.host_str().ok_or(ErrorKind::Connect)?;
    let port = u.port_or_known_default().ok_or(ErrorKind::Connect)?;
    let addr: SocketAddr = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|_| ErrorKind::Connect)?
        .next()
        .ok_or(ErrorKind::Connect)?;
    let sock = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|_| ErrorKind::Connect)?;
    sock.set_nodelay(true).map_err(|_| ErrorKind::Connect)?;
    if let Some(ip) = local {
        sock.bind(SocketAddr::new(ip, 0))
            .map_err(|_| ErrorKind::Connect)?;
    }
    let tcp = match timeout(CONNECT_TIMEOUT, sock.connect(addr)).await {
        Err(_) => return Err(ErrorKind::Timeout),
        Ok(Err(_)) => return Err(ErrorKind::Connect),
        Ok(Ok(s)) => s,
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);
    match tokio_tungstenite::client_async_with_config(req, tcp, Some(config)).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(r)) => Err(ErrorKind::Status(r.status().as_u16())),
        Err(WsError::Utf8(_) | WsError::Protocol(_) | WsError::Capacity(_)) => {
            Err(ErrorKind::Parse)
        }
        Err(_) => Err(ErrorKind::Io),
    }
}

/// Splits a `ws+meta.nchan` message into its id and data.
pub fn split_meta(msg: &[u8]) -> Option<(&str, &[u8])> {
    let end = msg.windows(2).position(|w| w == b"\n\n")?;
    let head = std::str::from_utf8(&msg[..end]).ok()?;
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .map(str::trim)?;
    Some((id, &msg[end + 2..]))
}

/// The loop: connect (resuming from the last id), read messages, reconnect after any end.
pub(crate) async fn run<S: Sink>(c: &mut ClientState<S>, url: &str) {
    let stall = c.cfg.stream_timeout.max(Duration::from_secs(1));
    let url = ws_url(url);
    let mut cursor = Cursor::default();
    loop {
        c.sink.request();
        let mut headers = vec![("sec-websocket-protocol", META_PROTOCOL.to_string())];
        headers.extend(cursor.headers());
        // Boxed: the handshake's state is kilobytes, and every client's future (whatever its
        // transport) would otherwise be as large as this one's largest await.
        let opening = Box::pin(connect(&url, c.cfg.local_addr, &headers));
        let mut ws = match timeout(stall, opening).await {
            Err(_) => {
                c.fail(ErrorKind::Timeout.into()).await;
                continue;
            }
            Ok(Err(kind)) => {
                c.fail(kind.into()).await;
                continue;
            }
            Ok(Ok(ws)) => ws,
        };
        c.established();
        let failed = loop {
            let m = match timeout(stall, ws.next()).await {
                Err(_) => break ErrorKind::Timeout,
                Ok(None | Some(Err(_))) => break ErrorKind::Io,
                Ok(Some(Ok(m))) => m,
            };
            let data: &[u8] = match &m {
                Message::Text(t) => t.as_bytes(),
                Message::Binary(b) => b,
                Message::Close(_) => break ErrorKind::Io,
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            };
            c.sink.bytes(data.len() as u64);
            let Some((id, body)) = split_meta(data) else {
                break ErrorKind::Parse;
            };
            if decode_tick_into(body.trim_ascii(), &mut c.tick).is_err() {
                break ErrorKind::Parse;
            }
            c.deliver_tick(now_micros());
            // The id's buffer is reused: no allocation once it is as long as the longest id.
            let e = cursor.event_id.get_or_insert_with(String::new);
            e.clear();
            e.push_str(id);
        };
        drop(ws);
        c.fail(failed.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_messages() {
        let (id, body) =
            split_meta(b"id: 1796:[3],-\ncontent-type: application/json\n\n{}\n").unwrap();
        assert_eq!((id, body), ("1796:[3],-", &b"{}\n"[..]));
        assert_eq!(split_meta(b"id: 5:0\n\nx").unwrap().0, "5:0");
        assert!(split_meta(b"no header").is_none());
        assert_eq!(ws_url("http://h:1/sub/A"), "ws://h:1/sub/A");
    }
}
