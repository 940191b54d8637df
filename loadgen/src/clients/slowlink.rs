//! A slow consumer's stream connection: hyper's HTTP/1 client over a socket whose receive buffer
//! is small, so the client behaves like one behind a slow link.
//!
//! Why not reqwest, as every other client: a slow *reader* behind a fast link keeps its backlog
//! in its own kernel receive buffer, which starts at 128 KiB and which Linux autotunes upwards.
//! At a slow consumer's pace (a tenth of a watchlist's few KB/s) that is minutes of stale ticks
//! that no server can see, let alone declare lost. On a real slow link the receive window stays
//! small and the backlog waits at the sender, where the server's slow-consumer policy
//! (`--sndbuf`, `--max-behind`, the journal's retention) has to deal with it; that is what
//! `--slow-clients` is meant to exercise. reqwest cannot set `SO_RCVBUF`, so slow clients open
//! their stream with hyper (the HTTP implementation reqwest itself runs on) over a `TcpSocket`
//! whose receive buffer is set before connecting, since the window scale is fixed at the
//! handshake. One connection per stream: a stream never hands its connection on.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, HOST};
use hyper::StatusCode;
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;
use tokio::time::timeout;

use super::http::CONNECT_TIMEOUT;
use super::sink::ErrorKind;

/// `SO_RCVBUF` of a slow consumer's socket, bytes (Linux doubles it for its bookkeeping): a
/// receive window of a few KiB, like a slow link's bandwidth-delay product.
pub const SLOW_RCVBUF: u32 = 4096;

/// An open stream response on a slow link.
pub(crate) struct SlowResponse {
    resp: hyper::Response<Incoming>,
    /// Kept so the connection is not told there will be no more requests mid-stream.
    _sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    /// The connection task, aborted (closing the socket) when the response is dropped.
    _conn: AbortOnDrop,
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SlowResponse {
    pub fn status(&self) -> StatusCode {
        self.resp.status()
    }

    pub fn headers(&self) -> &HeaderMap {
        self.resp.headers()
    }

    /// The next piece of body as read from the socket; `None` at the end of the body.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, ErrorKind> {
        loop {
            match self.resp.body_mut().frame().await {
                None => return Ok(None),
                Some(Err(_)) => return Err(ErrorKind::Io),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => return Ok(Some(data)),
                    // Empty data or trailers: nothing to parse.
                    _ => continue,
                },
            }
        }
    }

    /// The rest of the body (for an error answer), if it can be read.
    pub async fn bytes(self) -> Option<Bytes> {
        let SlowResponse {
            resp,
            _sender,
            _conn,
        } = self;
        resp.into_body().collect().await.ok().map(|b| b.to_bytes())
    }
}

/// `GET url` on a fresh connection with a [`SLOW_RCVBUF`] receive buffer, from `local` if given,
/// with `Last-Event-ID` if given. Fails with the same kinds the reqwest path reports.
pub(crate) async fn get(
    url: &str,
    last_event_id: Option<u64>,
    local: Option<IpAddr>,
) -> Result<SlowResponse, ErrorKind> {
    let u = reqwest::Url::parse(url).map_err(|_| ErrorKind::Connect)?;
    let host = u.host_str().ok_or(ErrorKind::Connect)?;
    let port = u.port_or_known_default().ok_or(ErrorKind::Connect)?;
    let authority = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
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
    sock.set_recv_buffer_size(SLOW_RCVBUF)
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
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|_| ErrorKind::Io)?;
    let conn = AbortOnDrop(
        tokio::spawn(async move {
            let _ = conn.await;
        })
        .abort_handle(),
    );
    let path = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    };
    let mut req = hyper::Request::get(path).header(
        HOST,
        HeaderValue::from_str(&authority).map_err(|_| ErrorKind::Connect)?,
    );
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let req = req.body(Empty::new()).map_err(|_| ErrorKind::Connect)?;
    let resp = sender.send_request(req).await.map_err(|_| ErrorKind::Io)?;
    Ok(SlowResponse {
        resp,
        _sender: sender,
        _conn: conn,
    })
}
