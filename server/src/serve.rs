//! The accept loop: our own, on `hyper::server::conn::http1`, because axum's `serve` exposes
//! neither a header-read timeout (slowloris) nor a connection cap.
//!
//! - Each connection gets hyper's `header_read_timeout` (with [`TokioTimer`]) and a header size
//!   limit (431); TCP_NODELAY is set because every tick is latency-measured.
//! - Over `max_conns`, a connection is still read (briefly, with a short header timeout) and
//!   answered `503` + `Retry-After: 1` with a JSON body, then closed, so the client sees a clean
//!   HTTP error rather than a reset; beyond a further margin it is just closed.
//! - accept() errors never spin: on fd exhaustion (EMFILE/ENFILE) the loop sleeps briefly and
//!   existing connections keep being served.
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
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use crate::app::AppState;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Largest request head (request line + headers) accepted; larger gets 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
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
        let svc = TowerToHyperService::new(router.clone());
        let b = builder.clone();
        let cancel = cancel.clone();
        let drain = state.config.drain;
        tracker.spawn(async move {
            let _slot = slot;
            let conn = b.serve_connection(TokioIo::new(stream), svc);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("connection: {e}");
                    }
                }
                _ = cancel.cancelled() => {
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
