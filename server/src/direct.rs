//! HTTP/1.1 streams written straight to the socket, without hyper: the first request of an
//! HTTP/1.1 connection, when it asks for a stream whose frames the journal keeps (SSE, NDJSON,
//! multipart, iframe), is read, routed through the same router and answered here.
//!
//! # Why not hyper for these
//! A stream is a long-lived response whose body is a sequence of small, already-framed buffers.
//! Through hyper each of them costs a chunk header built per delivery and a 3-buffer `writev`
//! (header, frame, CRLF) after a pass through its dispatcher, and every connection keeps hyper's
//! read buffer (8-16 KiB once a request was read), its 8 KiB header write buffer and its
//! connection state for as long as the stream lives, which is most of the server's memory per
//! subscriber (issue 15's C100K goal is at most 10 KB). hyper has no setting for either (its read
//! buffer starts at 8 KiB whatever `max_buf_size` says, and an HTTP/1.1 body of unknown length
//! is always chunk-encoded by it). Here the journal keeps each frame already chunk-encoded
//! ([`frames::chunk`](crate::frames::chunk)), so a delivery is one `write` of one shared buffer,
//! and what a stream holds is its socket, its [`FramedFeed`](crate::transports::framed) and a
//! few words.
//!
//! A stream standing at the journal head is then written by the fan-out writer
//! (`crate::fanout`), one pass per publish over every such stream, through the same socket.
//!
//! # What stays hyper's
//! Everything else: HTTP/2, upgrades (WebSocket), request bodies, HTTP/1.0, HEAD, and every
//! request after the first on a kept-alive connection. A head that is not a stream request, or
//! that this reader cannot take as it is (too large, malformed, an `Expect` or `Upgrade`), is
//! put back in front of the socket and hyper reads it from the start, so its answers (431, 400,
//! ...) and limits are unchanged. The router, its middleware and the handlers are the same, so
//! the headers, parameter errors, metrics and the stream's guarantees (cursors, gap notices,
//! heartbeats, `--max-behind` resets, shutdown `bye`) are those of every other stream.
//!
//! The header timeout applies to reading the head here as in hyper; a stream's connection
//! watches for the peer closing (a read of end of file, as hyper does) and for a reset asked by
//! its stream ([`ConnCtl`]); on shutdown the stream sends `bye` and the body's end, within the
//! drain time.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, Response, Version};
use axum::Router;
use bytes::{Buf, Bytes};
use hyper::body::Body as HttpBody;
use tickbench_wire::Transport;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::conn::{ConnCtl, PreChunked};
use crate::frames::{self, Framed, CHUNK_END};
use crate::preface::Prefixed;
use crate::state::AppState;

/// Most header fields a stream request may have here (more: hyper reads it).
const MAX_HEADERS: usize = 32;
/// Bytes of a request head read before deciding (beyond: hyper reads it, and answers 431 if it
/// is over its own limit).
const MAX_HEAD: usize = 8 * 1024;
/// Bytes a client may send while its stream runs (a pipelined request, kept for hyper); beyond
/// this, the connection is closed.
const MAX_EXTRA: usize = 8 * 1024;

/// How the first request went.
#[derive(Debug, PartialEq, Eq)]
pub enum Answered {
    /// Not taken, or answered with a complete response: hyper goes on with the connection (what
    /// was read and not used has been put back).
    Hyper,
    /// Answered and done (a stream ended, or the peer closed): close the connection.
    Closed,
    /// The stream asked for a reset: close with RST.
    Reset,
    /// Shutdown's drain time ran out while the stream was ending.
    Shutdown,
}

/// Whether `path` (with its query) is that of a stream the journal frames (exhaustive over
/// transports, through their framing).
fn is_stream_path(target: &[u8]) -> bool {
    let path = target.split(|&b| b == b'?').next().unwrap_or(target);
    Transport::ALL
        .into_iter()
        .any(|t| Framed::of(t.framing()).is_some() && path == t.path().as_bytes())
}

/// Whether the bytes so far can still be the start of a `GET` of a stream path.
fn may_be_stream_request(buf: &[u8]) -> bool {
    const GET: &[u8] = b"GET ";
    if buf.len() <= GET.len() {
        return GET.starts_with(buf);
    }
    if !buf.starts_with(GET) {
        return false;
    }
    let rest = &buf[GET.len()..];
    match rest.iter().position(|&b| b == b' ') {
        Some(end) => is_stream_path(&rest[..end]),
        // The target is still arriving: a prefix of a stream path, or one with a query.
        None => Transport::ALL.into_iter().any(|t| {
            let p = t.path().as_bytes();
            Framed::of(t.framing()).is_some()
                && (p.starts_with(rest) || rest.starts_with(p) && rest.get(p.len()) == Some(&b'?'))
        }),
    }
}

/// A parsed stream request, or why it is hyper's.
enum Head {
    /// The request, whether the client asked to close after it, and the bytes after its head.
    Stream(Box<Request<Body>>, bool, Vec<u8>),
    Hyper(Vec<u8>),
    Closed,
}

/// Reads the first request's head (within the header timeout) and decides whose it is.
async fn read_head<I>(io: &mut Prefixed<I>, timeout: Duration) -> Head
where
    I: AsyncRead + Unpin,
{
    let mut buf = Vec::with_capacity(512);
    let reading = async {
        loop {
            if !may_be_stream_request(&buf) {
                return Head::Hyper(std::mem::take(&mut buf));
            }
            if let Some(head) = parse(&buf) {
                return head;
            }
            if buf.len() >= MAX_HEAD {
                return Head::Hyper(std::mem::take(&mut buf));
            }
            // Into the heap buffer: nothing sized by a read stays in the connection's task.
            buf.reserve(512);
            match io.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return Head::Closed,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(timeout, reading)
        .await
        .unwrap_or(Head::Closed)
}

/// `Some` once `buf` holds a complete head: a stream request taken here, or hyper's.
fn parse(buf: &[u8]) -> Option<Head> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let n = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return None,
        Err(_) => return Some(Head::Hyper(buf.to_vec())),
    };
    let hyper = || Some(Head::Hyper(buf.to_vec()));
    if req.method != Some("GET") || req.version != Some(1) {
        return hyper();
    }
    let mut close = false;
    let mut b = Request::builder()
        .method(Method::GET)
        .uri(req.path.unwrap_or("/"))
        .version(Version::HTTP_11);
    for f in req.headers.iter() {
        let name = f.name.as_bytes();
        let is = |h: &str| name.eq_ignore_ascii_case(h.as_bytes());
        if is("expect") || is("upgrade") || is("transfer-encoding") {
            return hyper();
        }
        if is("content-length") && f.value.trim_ascii() != b"0" {
            return hyper();
        }
        if is("connection") {
            let v = f.value.to_ascii_lowercase();
            if v.windows(7).any(|w| w == b"upgrade") {
                return hyper();
            }
            close |= v.windows(5).any(|w| w == b"close");
        }
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name),
            HeaderValue::from_bytes(f.value),
        ) else {
            return hyper();
        };
        b = b.header(name, value);
    }
    match b.body(Body::empty()) {
        Ok(r) => Some(Head::Stream(Box::new(r), close, buf[n..].to_vec())),
        Err(_) => hyper(),
    }
}

/// Reads the connection's first request and answers it here if it asks for a stream; see the
/// module docs.
pub async fn first_request<I>(
    io: &mut Prefixed<I>,
    router: &Router,
    ctl: &Arc<ConnCtl>,
    state: &AppState,
) -> Answered
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let (mut req, close, extra) = match read_head(io, state.config.header_timeout).await {
        Head::Stream(r, close, extra) => (r, close, extra),
        Head::Hyper(bytes) => {
            io.put_back(bytes);
            return Answered::Hyper;
        }
        Head::Closed => return Answered::Closed,
    };
    req.extensions_mut().insert(ctl.clone());
    ctl.set_writes_chunks(true);
    let resp = Box::pin(tower::ServiceExt::oneshot(router.clone(), *req)).await;
    ctl.set_writes_chunks(false);
    let resp = resp.unwrap_or_else(|e| match e {});
    let streaming = resp.body().size_hint().exact().is_none();
    let close = close || streaming;
    let head = head(&resp, close);
    if io.write_all(&head).await.is_err() || io.flush().await.is_err() {
        return Answered::Closed;
    }
    drop(head);
    if !streaming {
        // A complete answer (a parameter error): hyper serves what follows.
        let body = http_body_util::BodyExt::collect(resp.into_body()).await;
        let ok = match body {
            Ok(b) => io.write_all(&b.to_bytes()).await.is_ok(),
            Err(_) => false,
        };
        if !ok || close {
            return Answered::Closed;
        }
        io.put_back(extra);
        return Answered::Hyper;
    }
    let pre_chunked = resp.extensions().get::<PreChunked>().is_some();
    let mut pump = Pump {
        body: resp.into_body(),
        pre_chunked,
        pending: Bytes::new(),
        ended: false,
        extra,
    };
    let cancel = state.cancel.clone();
    let drain = state.config.drain;
    let max_behind = state.config.stream_max_behind;
    let mut watch = (!max_behind.is_zero()).then(|| {
        let mut w = tokio::time::interval(crate::conn::watch_period(max_behind));
        w.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        w
    });
    let run = poll_fn(|cx| pump.poll(cx, io, ctl, watch.as_mut(), max_behind, state));
    tokio::select! {
        end = run => end,
        _ = async { cancel.cancelled().await; tokio::time::sleep(drain).await } => {
            Answered::Shutdown
        }
    }
}

/// The status line and headers of `resp`, with a `Date`, the body's framing, and
/// `Connection: close` when `close`.
fn head(resp: &Response<Body>, close: bool) -> Vec<u8> {
    let mut head = Vec::with_capacity(384);
    let status = resp.status();
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in resp.headers() {
        if name == header::CONNECTION || name == header::TRANSFER_ENCODING {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"date: ");
    head.extend_from_slice(httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes());
    head.extend_from_slice(b"\r\n");
    match resp.body().size_hint().exact() {
        Some(n) if !resp.headers().contains_key(header::CONTENT_LENGTH) => {
            head.extend_from_slice(format!("content-length: {n}\r\n").as_bytes());
        }
        Some(_) => {}
        None => head.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    if close {
        head.extend_from_slice(b"connection: close\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// A stream's body on its way to the socket: one chunk at a time, the next taken from the body
/// only once the last is written (so a slow reader holds the stream back, as hyper's bounded
/// buffer does, and `--max-behind` sees it).
struct Pump {
    body: Body,
    /// The body's data frames are HTTP/1.1 chunks already ([`PreChunked`]).
    pre_chunked: bool,
    /// What is left to write of the current chunk.
    pending: Bytes,
    /// The body ended: `pending` holds (the rest of) the end chunk.
    ended: bool,
    /// Bytes the client sent meanwhile, kept for hyper.
    extra: Vec<u8>,
}

impl Pump {
    fn poll<I>(
        &mut self,
        cx: &mut Context<'_>,
        io: &mut Prefixed<I>,
        ctl: &ConnCtl,
        watch: Option<&mut tokio::time::Interval>,
        max_behind: Duration,
        state: &AppState,
    ) -> Poll<Answered>
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        if ctl.poll_reset(cx).is_ready() {
            return Poll::Ready(Answered::Reset);
        }
        loop {
            if self.pending.is_empty() {
                if self.ended {
                    return Poll::Ready(Answered::Closed);
                }
                match Pin::new(&mut self.body).poll_frame(cx) {
                    Poll::Ready(Some(Ok(f))) => {
                        if let Ok(d) = f.into_data() {
                            self.pending = if self.pre_chunked {
                                d
                            } else {
                                frames::chunk_bytes(&d)
                            };
                        }
                        continue;
                    }
                    Poll::Ready(Some(Err(e))) => {
                        tracing::debug!("stream body: {e}");
                        return Poll::Ready(Answered::Closed);
                    }
                    Poll::Ready(None) => {
                        self.pending = Bytes::from_static(CHUNK_END);
                        self.ended = true;
                        continue;
                    }
                    Poll::Pending => break,
                }
            }
            match Pin::new(&mut *io).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Poll::Ready(Answered::Closed),
                Poll::Ready(Ok(n)) => self.pending.advance(n),
                Poll::Pending => break,
            }
        }
        // A no-op on plain TCP; TLS sends the records it holds.
        if let Poll::Ready(Err(_)) = Pin::new(&mut *io).poll_flush(cx) {
            return Poll::Ready(Answered::Closed);
        }
        // The peer closing, or sending the next request early.
        loop {
            let mut scratch = [0u8; 256];
            let mut rb = ReadBuf::new(&mut scratch);
            match Pin::new(&mut *io).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                    return Poll::Ready(Answered::Closed)
                }
                Poll::Ready(Ok(())) => {
                    if self.extra.len() + rb.filled().len() > MAX_EXTRA {
                        return Poll::Ready(Answered::Closed);
                    }
                    self.extra.extend_from_slice(rb.filled());
                }
                Poll::Ready(Err(_)) => return Poll::Ready(Answered::Closed),
                Poll::Pending => break,
            }
        }
        // Checked here too, not only when the body is polled: a reader that stopped draining
        // keeps the body from being polled at all.
        if let Some(w) = watch {
            while w.poll_tick(cx).is_ready() {
                if ctl.cut_if_behind(max_behind, &state.metrics) {
                    return Poll::Ready(Answered::Reset);
                }
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_requests_are_told_from_the_first_bytes() {
        for yes in [
            &b""[..],
            b"G",
            b"GET /s",
            b"GET /sse",
            b"GET /sse?symbols=AAPL",
            b"GET /sse HTTP/1.1\r\n",
            b"GET /stream?since=3 HTTP/1.1\r\n",
            b"GET /multipart ",
            b"GET /iframe ",
        ] {
            assert!(
                may_be_stream_request(yes),
                "{}",
                String::from_utf8_lossy(yes)
            );
        }
        for no in [
            &b"POST"[..],
            b"HEAD /sse",
            b"GET /poll",
            b"GET /ws ",
            b"GET /sse/x ",
            b"GET /ssex",
            b"GET /metrics HTTP/1.1\r\n",
            b"PRI * HTTP/2.0",
        ] {
            assert!(
                !may_be_stream_request(no),
                "{}",
                String::from_utf8_lossy(no)
            );
        }
    }

    #[test]
    fn heads_it_cannot_take_go_to_hyper_whole() {
        let take = |h: &[u8]| match parse(h) {
            Some(Head::Stream(r, close, extra)) => Some((r.uri().to_string(), close, extra)),
            Some(Head::Hyper(b)) => {
                assert_eq!(b, h, "hyper gets every byte");
                None
            }
            Some(Head::Closed) | None => panic!("complete heads are decided"),
        };
        assert_eq!(
            take(b"GET /sse?symbols=A HTTP/1.1\r\nHost: x\r\n\r\nGET"),
            Some(("/sse?symbols=A".into(), false, b"GET".to_vec()))
        );
        assert_eq!(
            take(b"GET /sse HTTP/1.1\r\nConnection: close\r\n\r\n"),
            Some(("/sse".into(), true, vec![]))
        );
        assert!(parse(b"GET /sse HTTP/1.1\r\nHost: x\r\n").is_none());
        for h in [
            &b"GET /sse HTTP/1.0\r\n\r\n"[..],
            b"GET /sse HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            b"GET /sse HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            b"GET /sse HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /sse HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            b"GET /sse HTTP/1.1\r\nBad Header: x\r\n\r\n",
        ] {
            assert_eq!(take(h), None);
        }
    }
}
