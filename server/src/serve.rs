//! The accept loop: our own, on hyper's `http1` and `http2` connection builders, because axum's
//! `serve` exposes neither a header-read timeout (slowloris) nor a connection cap, nor TLS.
//!
//! - One port speaks HTTP/1.1 and HTTP/2 with prior knowledge (h2c); with `--tls` it speaks
//!   HTTPS with ALPN (`h2`, `http/1.1`). The protocol is told by the first bytes
//!   ([`preface`](crate::preface)); the TLS handshake and those bytes together must arrive
//!   within the header timeout, so a silent, slow or garbage handshake holds its connection
//!   slot at most that long.
//! - HTTP/1.1 connections get hyper's `header_read_timeout` (with [`TokioTimer`]) and a header
//!   size limit (431). HTTP/2 connections get `SETTINGS_MAX_CONCURRENT_STREAMS`
//!   (`--h2-max-streams`), a header list limit of [`MAX_HEADER_BYTES`], a bound on streams the
//!   client resets before they are accepted (the rapid-reset attack, CVE-2023-44487) and on
//!   streams reset for protocol errors (CVE-2025-8671), a per-stream send buffer of
//!   [`CONN_BUF_BYTES`], small receive windows (no request carries a body worth more), PINGs at
//!   the heartbeat interval that close a peer not answering within the header timeout, and must
//!   send their first request within the header timeout. The h2 crate itself bounds
//!   CONTINUATION floods (by the header list limit) and pending PING/SETTINGS acknowledgements.
//! - TCP_NODELAY is set because every tick is latency-measured.
//! - Each connection's kernel send buffer is fixed at `Config::sndbuf` (`SO_SNDBUF`) and hyper's
//!   buffer at [`CONN_BUF_BYTES`]: with autotuning the kernel grows a slow reader's send buffer
//!   to `tcp_wmem`'s maximum (4 MiB here), memory no RSS figure shows and a backlog the stream
//!   cannot see, so it would look caught up while minutes of ticks wait in the kernel.
//! - Over `max_conns`, a connection is still read (briefly, with a short header timeout) and
//!   answered `503` + `Retry-After: 1` with a JSON body, then closed, so the client sees a clean
//!   HTTP error rather than a reset; beyond a further margin it is just closed.
//! - accept() errors never spin: on fd exhaustion (EMFILE/ENFILE) the loop sleeps briefly and
//!   existing connections keep being served.
//! - A stream that has fallen too far behind asks for a reset through its [`ConnCtl`] (a
//!   request extension). On HTTP/1.1 the connection task drops the connection with `SO_LINGER`
//!   0 ([`ResetIo`]): the kernel sends RST and discards what is still buffered for the slow
//!   reader instead of making it read through it (see `transports` § Slow consumers). On HTTP/2
//!   only the slow stream is reset (`RST_STREAM`), unless every stream of the connection is
//!   behind; see [`conn`](crate::conn) for why.
//! - HTTP/1.1 connections can be upgraded (`GET /ws`): hyper hands the socket to the WebSocket
//!   session and its connection future completes; the connection task then waits for the
//!   session to end ([`ConnCtl::session_ended`]), so the connection keeps its slot and shutdown
//!   waits for the session's close handshake (bounded by the drain time).
//! - On shutdown the loop stops accepting and every connection is shut down gracefully (HTTP/2:
//!   GOAWAY): streams have already ended with their `bye` frame, so hyper finishes them and
//!   closes.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use crate::api_error::ApiError;
use crate::conn::{watch_period, ConnCtl, CutBody, ResetFlag, ResetIo, Streams};
use crate::direct::{self, Answered};
use crate::fanout::Slot;
use crate::metrics::Metrics;
use crate::preface::{detect, Prefixed, Protocol};
use crate::state::AppState;
use crate::tls::Tls;

/// Largest request head (request line + headers; HTTP/2: the header list) accepted; larger gets
/// 431 (HTTP/2: the stream is refused).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// hyper's per-connection buffer limit (its default is ~400 KiB), and on HTTP/2 its send buffer
/// per stream. hyper stops polling a response body once this much sits unflushed, so with
/// [`CHUNK_BYTES`](crate::transports::feed::CHUNK_BYTES) it bounds what a slow reader costs in
/// user space; kept above [`MAX_HEADER_BYTES`], which it also caps for reading.
pub const CONN_BUF_BYTES: usize = 64 * 1024;
/// HTTP/2 receive windows (stream and connection): requests carry at most small JSON bodies.
const H2_RECV_WINDOW: u32 = 64 * 1024;
/// HTTP/2 streams a client may reset before the server accepted them (CVE-2023-44487); beyond,
/// GOAWAY. hyper's default, stated so it cannot change under us.
const H2_MAX_PENDING_RESETS: usize = 20;
/// HTTP/2 streams the server may reset for the client's protocol errors (CVE-2025-8671) before
/// GOAWAY. Slow-consumer resets count too, so it stays well above `--h2-max-streams`' default.
const H2_MAX_LOCAL_RESETS: usize = 1_024;
/// Over-cap connections being answered 503 at once; beyond this they are closed unanswered.
const MAX_REJECTING: usize = 1_024;
/// How long an over-cap connection may take to send its request before it is just closed.
const REJECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause after an accept() error caused by resource exhaustion.
const EXHAUSTED_PAUSE: Duration = Duration::from_millis(100);

/// Decrements the open-connection count when the connection task ends, however it ends.
struct ConnSlot(Arc<Metrics>);

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.0.conns_open.fetch_sub(1, Relaxed);
    }
}

/// How a connection task's wait ended.
enum ConnEnd {
    Done(hyper::Result<()>),
    Reset,
    Shutdown,
    /// An HTTP/2 connection sent no request within the header timeout.
    Idle,
}

/// What every connection task of one accept loop shares.
struct Shared {
    state: Arc<AppState>,
    router: Router,
    tls: Option<Tls>,
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
    reject_h1: http1::Builder,
    reject_h2: http2::Builder<TokioExecutor>,
}

impl Shared {
    fn new(state: Arc<AppState>, router: Router, tls: Option<Tls>) -> Shared {
        let cfg = &state.config;
        let mut h1 = http1::Builder::new();
        h1.timer(TokioTimer::new())
            .header_read_timeout(cfg.header_timeout)
            .max_header_size(MAX_HEADER_BYTES)
            .max_buf_size(CONN_BUF_BYTES)
            .keep_alive(true);
        let mut h2 = http2::Builder::new(TokioExecutor::new());
        h2.timer(TokioTimer::new())
            .max_concurrent_streams(cfg.h2_max_streams)
            .max_header_list_size(MAX_HEADER_BYTES as u32)
            .max_pending_accept_reset_streams(H2_MAX_PENDING_RESETS)
            .max_local_error_reset_streams(H2_MAX_LOCAL_RESETS)
            .max_send_buf_size(CONN_BUF_BYTES)
            .initial_stream_window_size(H2_RECV_WINDOW)
            .initial_connection_window_size(H2_RECV_WINDOW)
            .keep_alive_interval(cfg.heartbeat)
            .keep_alive_timeout(cfg.header_timeout);
        let mut reject_h1 = http1::Builder::new();
        reject_h1
            .timer(TokioTimer::new())
            .header_read_timeout(REJECT_TIMEOUT)
            .max_header_size(MAX_HEADER_BYTES)
            .keep_alive(false);
        let mut reject_h2 = http2::Builder::new(TokioExecutor::new());
        reject_h2
            .timer(TokioTimer::new())
            .max_concurrent_streams(1)
            .max_header_list_size(MAX_HEADER_BYTES as u32);
        Shared {
            state,
            router,
            tls,
            h1,
            h2,
            reject_h1,
            reject_h2,
        }
    }
}

/// Accepts connections on `listener` and serves `router` on each (over TLS with `tls`), until
/// `state.cancel`; every connection task is spawned on `tracker`, so shutdown can wait for them
/// to drain.
pub async fn accept_loop(
    listener: TcpListener,
    router: Router,
    state: Arc<AppState>,
    tracker: TaskTracker,
    tls: Option<Tls>,
) {
    let sh = Arc::new(Shared::new(state.clone(), router, tls));
    let rejecting = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let metrics = state.metrics.clone();
    let cancel = state.cancel.clone();

    loop {
        let stream = tokio::select! {
            _ = cancel.cancelled() => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    metrics.accept_errors.fetch_add(1, Relaxed);
                    if is_exhaustion(&e) {
                        tracing::warn!("accept: {e}; pausing {EXHAUSTED_PAUSE:?}");
                        tokio::time::sleep(EXHAUSTED_PAUSE).await;
                    } else {
                        tracing::debug!("accept: {e}");
                    }
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        if state.config.sndbuf > 0 {
            if let Err(e) =
                socket2::SockRef::from(&stream).set_send_buffer_size(state.config.sndbuf)
            {
                tracing::debug!("SO_SNDBUF: {e}");
            }
        }
        if metrics.conns_open.load(Relaxed) >= state.config.max_conns {
            metrics.conns_rejected.fetch_add(1, Relaxed);
            if rejecting.load(Relaxed) >= MAX_REJECTING {
                drop(stream);
                continue;
            }
            rejecting.fetch_add(1, Relaxed);
            let rejecting = rejecting.clone();
            let sh = sh.clone();
            tracker.spawn(async move {
                reject(stream, &sh).await;
                rejecting.fetch_sub(1, Relaxed);
            });
            continue;
        }
        metrics.conns_open.fetch_add(1, Relaxed);
        metrics.conns_accepted.fetch_add(1, Relaxed);
        let slot = ConnSlot(metrics.clone());
        let sh = sh.clone();
        tracker.spawn(async move {
            let _slot = slot;
            connection(stream, sh).await;
        });
    }
}

/// One accepted connection, from the TLS handshake (if any) to its end.
async fn connection(tcp: TcpStream, sh: Arc<Shared>) {
    let flag = ResetFlag::default();
    let io = ResetIo::new(tcp, flag.clone());
    let timeout = sh.state.config.header_timeout;
    match sh.tls.clone() {
        None => {
            let raw = io.fanout_slot();
            if let Some((proto, io)) = open(detect(io), timeout, &sh).await {
                serve(proto, io, &sh, flag, Some(raw)).await;
            }
        }
        Some(tls) => {
            // Boxed: the handshake's state is not kept in every plain connection's task.
            // So is what runs on it: a TLS session is larger than a plain connection's task.
            let opening = Box::pin(async move { detect(tls.acceptor().accept(io).await?).await });
            if let Some((proto, io)) = open(opening, timeout, &sh).await {
                Box::pin(serve(proto, io, &sh, flag, None)).await;
            }
        }
    }
}

/// Waits up to `timeout` (or until shutdown) for `opening`: the TLS handshake if any and the
/// first bytes that tell the protocol. `None` when the connection is to be closed.
async fn open<I, F>(opening: F, timeout: Duration, sh: &Shared) -> Option<(Protocol, Prefixed<I>)>
where
    F: Future<Output = std::io::Result<Option<(Protocol, Prefixed<I>)>>>,
{
    let r = tokio::select! {
        r = tokio::time::timeout(timeout, opening) => r,
        _ = sh.state.cancel.cancelled() => return None,
    };
    match r {
        Ok(Ok(opened)) => opened,
        Ok(Err(e)) => {
            tracing::debug!("connection opening (TLS handshake or first bytes): {e}");
            None
        }
        Err(_) => {
            tracing::debug!("no TLS handshake or request within {timeout:?}; closing");
            None
        }
    }
}

/// `raw`: the socket itself when the connection is plain TCP (see `crate::fanout`).
async fn serve<I>(
    proto: Protocol,
    io: Prefixed<I>,
    sh: &Shared,
    flag: ResetFlag,
    raw: Option<Arc<Slot>>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // hyper's connection futures are boxed: a connection task's own future is then only what a
    // stream written by `direct` needs, and every idle subscriber's task is that small.
    let end = match proto {
        Protocol::Http1 => serve_h1(io, sh, &flag, raw).await,
        Protocol::Http2 => Box::pin(serve_h2(io, sh, &flag)).await,
    };
    match end {
        ConnEnd::Done(Err(e)) => tracing::debug!("connection: {e}"),
        ConnEnd::Done(Ok(())) | ConnEnd::Shutdown | ConnEnd::Reset => {}
        ConnEnd::Idle => tracing::debug!("HTTP/2 connection sent no request; closing"),
    }
}

/// HTTP/1.1 (with upgrades): one [`ConnCtl`] for the connection, whose requests follow each
/// other. A first request for a stream is answered by [`direct`]; hyper serves the rest.
async fn serve_h1<I>(
    mut io: Prefixed<I>,
    sh: &Shared,
    flag: &ResetFlag,
    raw: Option<Arc<Slot>>,
) -> ConnEnd
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ctl = Arc::new(ConnCtl::for_socket(flag.clone(), raw));
    match direct::first_request(&mut io, &sh.router, &ctl, &sh.state).await {
        Answered::Hyper => Box::pin(serve_h1_hyper(io, sh, flag, ctl)).await,
        Answered::Closed => ConnEnd::Done(Ok(())),
        Answered::Reset => {
            // Dropping the socket when this returns is then an RST (see below).
            flag.set();
            ConnEnd::Reset
        }
        Answered::Shutdown => ConnEnd::Shutdown,
    }
}

/// HTTP/1.1 through hyper.
async fn serve_h1_hyper<I>(
    io: Prefixed<I>,
    sh: &Shared,
    flag: &ResetFlag,
    ctl: Arc<ConnCtl>,
) -> ConnEnd
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = {
        let (router, ctl) = (sh.router.clone(), ctl.clone());
        hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ctl.clone());
            tower::ServiceExt::oneshot(router.clone(), req)
        })
    };
    let conn = sh
        .h1
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let (cancel, metrics) = (&sh.state.cancel, &sh.state.metrics);
    let max_behind = sh.state.config.stream_max_behind;
    let mut watch = tokio::time::interval(watch_period(max_behind));
    watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end = loop {
        tokio::select! {
            r = conn.as_mut() => break ConnEnd::Done(r),
            _ = ctl.reset_asked() => break ConnEnd::Reset,
            _ = cancel.cancelled() => break ConnEnd::Shutdown,
            _ = watch.tick(), if !max_behind.is_zero() => {
                if ctl.cut_if_behind(max_behind, metrics) {
                    break ConnEnd::Reset;
                }
            }
        }
    };
    match end {
        ConnEnd::Shutdown => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(sh.state.config.drain, conn.as_mut()).await;
        }
        // Dropping the connection (and with it the socket) when this returns is then an RST,
        // which discards the kernel's send buffer too.
        ConnEnd::Reset => flag.set(),
        ConnEnd::Done(Ok(())) => {
            // Upgraded: the session holds the socket now (and resets it itself); the slot stays
            // taken until it ends, or the drain time after shutdown began.
            let drain = sh.state.config.drain;
            tokio::select! {
                _ = ctl.session_ended() => {}
                _ = async { sh.state.cancel.cancelled().await; tokio::time::sleep(drain).await } => {}
            }
        }
        ConnEnd::Done(Err(_)) | ConnEnd::Idle => {}
    }
    end
}

/// HTTP/2: one [`ConnCtl`] per request (stream), each body able to end alone with `RST_STREAM`.
async fn serve_h2<I>(io: Prefixed<I>, sh: &Shared, flag: &ResetFlag) -> ConnEnd
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let streams = Arc::new(Streams::default());
    let svc = {
        let (router, streams) = (sh.router.clone(), streams.clone());
        hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            let ctl = streams.open();
            req.extensions_mut().insert(ctl.clone());
            let answer = tower::ServiceExt::oneshot(router.clone(), req);
            async move {
                let r = answer.await.unwrap_or_else(|e: Infallible| match e {});
                Ok::<_, Infallible>(r.map(|b| CutBody::new(b, ctl)))
            }
        })
    };
    let conn = sh.h2.serve_connection(TokioIo::new(io), svc);
    let mut conn = std::pin::pin!(conn);
    let (cancel, metrics) = (&sh.state.cancel, &sh.state.metrics);
    let max_behind = sh.state.config.stream_max_behind;
    let mut watch = tokio::time::interval(watch_period(max_behind));
    watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let first_request_by = tokio::time::sleep(sh.state.config.header_timeout);
    let mut first_request_by = std::pin::pin!(first_request_by);
    let mut first_checked = false;
    let end = loop {
        tokio::select! {
            r = conn.as_mut() => break ConnEnd::Done(r),
            _ = cancel.cancelled() => break ConnEnd::Shutdown,
            _ = first_request_by.as_mut(), if !first_checked => {
                first_checked = true;
                if !streams.used() {
                    break ConnEnd::Idle;
                }
            }
            _ = watch.tick(), if !max_behind.is_zero() => {
                if streams.sweep(max_behind, metrics) {
                    break ConnEnd::Reset;
                }
            }
        }
    };
    match end {
        ConnEnd::Shutdown => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(sh.state.config.drain, conn.as_mut()).await;
        }
        // Dropping the connection (and with it the socket) when this returns is then an RST,
        // which discards the kernel's send buffer too.
        ConnEnd::Reset => flag.set(),
        ConnEnd::Done(_) | ConnEnd::Idle => {}
    }
    end
}

/// Reads one request and answers 503 + `Retry-After: 1`, then closes (over TLS and HTTP/2 as
/// the connection asks).
async fn reject(tcp: TcpStream, sh: &Shared) {
    match sh.tls.clone() {
        None => {
            if let Some((proto, io)) = open(detect(tcp), REJECT_TIMEOUT, sh).await {
                answer_overloaded(proto, io, sh).await;
            }
        }
        Some(tls) => {
            let opening = async move { detect(tls.acceptor().accept(tcp).await?).await };
            if let Some((proto, io)) = open(opening, REJECT_TIMEOUT, sh).await {
                answer_overloaded(proto, io, sh).await;
            }
        }
    }
}

async fn answer_overloaded<I>(proto: Protocol, io: Prefixed<I>, sh: &Shared)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(|_req: Request<hyper::body::Incoming>| async {
        let err = ApiError::Overloaded;
        let mut r = Response::new(Body::from(err.body()));
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        // HTTP/1.1 only: hyper drops connection headers from HTTP/2 answers.
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, Infallible>(r)
    });
    let io = TokioIo::new(io);
    match proto {
        Protocol::Http1 => {
            let conn = sh.reject_h1.serve_connection(io, svc);
            let _ = tokio::time::timeout(REJECT_TIMEOUT * 2, conn).await;
        }
        Protocol::Http2 => {
            let conn = sh.reject_h2.serve_connection(io, svc);
            let _ = tokio::time::timeout(REJECT_TIMEOUT * 2, conn).await;
        }
    }
}

/// Errors that mean "out of some resource": retrying at once would spin.
fn is_exhaustion(e: &std::io::Error) -> bool {
    use nix::errno::Errno;
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every idle subscriber holds one connection task: its future is what C100K multiplies
    /// (hyper's connections, HTTP/2 and TLS are boxed out of it).
    #[tokio::test]
    async fn a_connection_task_stays_small() {
        let config = crate::Config {
            rate: 0.0,
            ..Default::default()
        };
        let state = Arc::new(AppState::new(config, 0));
        let sh = Arc::new(Shared::new(state.clone(), crate::app::app(state), None));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let task = connection(tcp, sh);
        let size = std::mem::size_of_val(&task);
        eprintln!("connection task future: {size} bytes");
        // Unoptimised builds lay futures out larger; the bound holds for both.
        assert!(
            size <= 3 * 1024,
            "a connection task's future is {size} bytes"
        );
    }
}
