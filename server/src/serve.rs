//! The accept loop: our own, on `hyper::server::conn::http1`, because axum's `serve` exposes
//! neither a header-read timeout (slowloris) nor a connection cap.
//!
//! - Each connection gets hyper's `header_read_timeout` (with [`TokioTimer`]) and a header size
//!   limit (431); TCP_NODELAY is set because every tick is latency-measured.
//! - Each connection's kernel send buffer is fixed at `Config::sndbuf` (`SO_SNDBUF`) and hyper's
//!   buffer at [`CONN_BUF_BYTES`]: with autotuning the kernel grows a slow reader's send buffer
//!   to `tcp_wmem`'s maximum (4 MiB here), memory no RSS figure shows and a backlog the stream
//!   cannot see, so it would look caught up while minutes of ticks wait in the kernel.
//! - Over `max_conns`, a connection is still read (briefly, with a short header timeout) and
//!   answered `503` + `Retry-After: 1` with a JSON body, then closed, so the client sees a clean
//!   HTTP error rather than a reset; beyond a further margin it is just closed.
//! - accept() errors never spin: on fd exhaustion (EMFILE/ENFILE) the loop sleeps briefly and
//!   existing connections keep being served.
//! - A stream that has fallen too far behind asks for its connection to be *reset* through the
//!   per-connection [`ConnCtl`] (a request extension): the connection task drops the connection,
//!   whose socket ([`ResetIo`]) sets `SO_LINGER` 0 first, so the kernel sends RST and discards
//!   what is still buffered for the slow reader instead of making it read through them
//!   (see `transports` § Slow consumers).
//! - Connections can be upgraded (`GET /ws`): hyper hands the socket to the WebSocket session
//!   and its connection future completes; the connection task then waits for the session to
//!   end ([`ConnCtl::session_ended`]), so the connection keeps its slot and shutdown waits for
//!   the session's close handshake (bounded by the drain time).
//! - On shutdown the loop stops accepting and every connection is shut down gracefully: streams
//!   have already ended with their `bye` frame, so hyper finishes them and closes.

use std::convert::Infallible;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use crate::api_error::ApiError;
use crate::conn::ConnCtl;
use crate::metrics::Metrics;
use crate::reset_io::ResetIo;
use crate::state::AppState;

/// Largest request head (request line + headers) accepted; larger gets 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// hyper's per-connection buffer limit (its default is ~400 KiB). hyper stops polling a
/// response body once this much sits unflushed, so with
/// [`CHUNK_BYTES`](crate::transports::feed::CHUNK_BYTES) it bounds what a slow reader costs in
/// user space; kept above [`MAX_HEADER_BYTES`], which it also caps for reading.
pub const CONN_BUF_BYTES: usize = 64 * 1024;
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

/// How often a connection task checks whether its stream fell too far behind, for
/// `max_behind`: the body is polled (and checks itself) only when the client drains enough for
/// hyper to flush, which for a very slow reader can take many seconds.
fn watch_period(max_behind: Duration) -> Duration {
    (max_behind / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
}

/// How a connection task's wait ended.
enum ConnEnd {
    Done(hyper::Result<()>),
    Reset,
    Shutdown,
}

/// Accepts connections on `listener` and serves `router` on each, until `state.cancel`; every
/// connection task is spawned on `tracker`, so shutdown can wait for them to drain.
pub async fn accept_loop(
    listener: TcpListener,
    router: Router,
    state: Arc<AppState>,
    tracker: TaskTracker,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(CONN_BUF_BYTES)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let mut reject_builder = http1::Builder::new();
    reject_builder
        .timer(TokioTimer::new())
        .header_read_timeout(REJECT_TIMEOUT)
        .max_header_size(MAX_HEADER_BYTES)
        .keep_alive(false);
    let reject_builder = Arc::new(reject_builder);
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
            let b = reject_builder.clone();
            tracker.spawn(async move {
                reject(stream, &b).await;
                rejecting.fetch_sub(1, Relaxed);
            });
            continue;
        }
        metrics.conns_open.fetch_add(1, Relaxed);
        metrics.conns_accepted.fetch_add(1, Relaxed);
        let slot = ConnSlot(metrics.clone());
        let ctl = Arc::new(ConnCtl::default());
        let svc = {
            let (router, ctl) = (router.clone(), ctl.clone());
            hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ctl.clone());
                tower::ServiceExt::oneshot(router.clone(), req)
            })
        };
        let b = builder.clone();
        let cancel = cancel.clone();
        let drain = state.config.drain;
        let max_behind = state.config.stream_max_behind;
        let metrics = metrics.clone();
        tracker.spawn(async move {
            let _slot = slot;
            let io = ResetIo::new(stream, ctl.clone());
            let mut conn = b.serve_connection(TokioIo::new(io), svc).with_upgrades();
            let mut watch = tokio::time::interval(watch_period(max_behind));
            watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let end = loop {
                tokio::select! {
                    r = &mut conn => break ConnEnd::Done(r),
                    _ = ctl.reset_asked() => break ConnEnd::Reset,
                    _ = cancel.cancelled() => break ConnEnd::Shutdown,
                    _ = watch.tick(), if !max_behind.is_zero() => {
                        if ctl.cut_if_behind(max_behind, &metrics) {
                            break ConnEnd::Reset;
                        }
                    }
                }
            };
            match end {
                ConnEnd::Done(Err(e)) => tracing::debug!("connection: {e}"),
                ConnEnd::Done(Ok(())) => {
                    // Upgraded: the session holds the socket now (and resets it itself).
                    tokio::select! {
                        _ = ctl.session_ended() => {}
                        _ = async { cancel.cancelled().await; tokio::time::sleep(drain).await } => {}
                    }
                }
                ConnEnd::Reset => {
                    // Drop hyper's connection, its unflushed buffer and the socket, which closes
                    // with SO_LINGER 0 (`ResetIo`): RST, the kernel send buffer discarded too.
                    drop(conn);
                }
                ConnEnd::Shutdown => {
                    let mut conn = std::pin::pin!(conn);
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(drain, conn.as_mut()).await;
                }
            }
        });
    }
}

/// Reads one request and answers 503 + `Retry-After: 1`, then closes.
async fn reject(stream: TcpStream, builder: &http1::Builder) {
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
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, Infallible>(r)
    });
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    let _ = tokio::time::timeout(REJECT_TIMEOUT * 2, conn).await;
}

/// Errors that mean "out of some resource": retrying at once would spin.
fn is_exhaustion(e: &std::io::Error) -> bool {
    use nix::errno::Errno;
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)
    )
}
