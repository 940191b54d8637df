//! The router and the small endpoints that are not transports (`/snapshot`, `/symbols`,
//! `/healthz`, `/metrics`, the 404/405 fallbacks).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tickbench_wire::{Snapshot, SymbolInfo, Symbols};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::error::ApiError;
use crate::journal::Journal;
use crate::market::Universe;
use crate::metrics::Metrics;
use crate::params::Params;
use crate::transports::{iframe, longpoll, multipart, piggyback, poll, sse, stream};

/// Everything a handler needs, shared by all connections.
pub struct AppState {
    pub config: Config,
    pub universe: Arc<Universe>,
    pub journal: Arc<Journal>,
    pub metrics: Arc<Metrics>,
    /// Cancelled on SIGINT/SIGTERM or [`crate::ServerHandle::shutdown`]: streams send their
    /// `bye` frame and end, held long-polls answer at once.
    pub cancel: CancellationToken,
    pub started: Instant,
    /// The run's time origin, µs: ticks are scheduled at epoch + Poisson offsets. Reported in
    /// `/symbols`, `/healthz` and `X-Tickbench-Epoch` so a client can tell a restarted server
    /// continuing the same stream (same epoch) from a different one.
    pub epoch_us: u64,
    /// Order ids for `POST /api/orders`.
    pub order_ids: AtomicU64,
}

/// The whole HTTP surface. Separate from the accept loop so tests could also drive it directly.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/poll", get(poll::handler))
        .route("/api/quote/{sym}", get(piggyback::quote))
        .route("/api/orders", post(piggyback::order))
        .route("/longpoll", get(longpoll::handler))
        .route("/stream", get(stream::handler))
        .route("/sse", get(sse::handler))
        .route("/multipart", get(multipart::handler))
        .route("/iframe", get(iframe::handler))
        .route("/snapshot", get(snapshot))
        .route("/symbols", get(symbols))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            every_answer,
        ))
        .with_state(state)
}

/// A JSON answer with `Cache-Control: no-cache` (everything here changes with every tick).
pub fn json_response(
    status: axum::http::StatusCode,
    body: impl Into<axum::body::Body>,
) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body.into(),
    )
        .into_response()
}

async fn snapshot(State(st): State<Arc<AppState>>, p: Params) -> Response {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    let (next, quotes) = st.journal.snapshot(&st.universe, p.symbols.as_deref());
    let body = serde_json::to_vec(&Snapshot { next, quotes }).unwrap_or_default();
    json_response(axum::http::StatusCode::OK, body)
}

async fn symbols(State(st): State<Arc<AppState>>) -> Response {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    let s = Symbols {
        rate: st.config.rate,
        seed: st.config.seed,
        retain: st.config.retain as u64,
        epoch_us: st.epoch_us,
        symbols: st
            .universe
            .symbols
            .iter()
            .map(|s| SymbolInfo {
                sym: s.name.clone(),
                weight: s.weight,
                price: s.start_price,
            })
            .collect(),
    };
    json_response(
        axum::http::StatusCode::OK,
        serde_json::to_vec(&s).unwrap_or_default(),
    )
}

async fn healthz(State(st): State<Arc<AppState>>) -> Response {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    let body = serde_json::json!({
        "status": "ok",
        "next": st.journal.next_seq(),
        "uptime_s": st.started.elapsed().as_secs(),
        "epoch_us": st.epoch_us,
    });
    json_response(axum::http::StatusCode::OK, body.to_string())
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    let text = st.metrics.render(
        st.journal.len(),
        st.journal.next_seq(),
        st.started.elapsed().as_secs_f64(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn not_found(State(st): State<Arc<AppState>>, uri: axum::http::Uri) -> ApiError {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    let path: String = uri.path().chars().take(100).collect();
    ApiError::NotFound(format!("no such endpoint: {path}"))
}

async fn method_not_allowed(State(st): State<Arc<AppState>>) -> ApiError {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    ApiError::MethodNotAllowed
}

/// What every answer gets, in one middleware (it wraps every request, `/poll` included):
/// - `X-Tickbench-Epoch: <epoch_us>` (so on every tick-carrying answer, batches and streams
///   alike): a client that reconnects compares it with the last one it saw; equal means the
///   same stream continues and its cursor is still meaningful;
/// - a count of 4xx answers, including those produced by extractors before any handler runs.
async fn every_answer(
    State(st): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut r = next.run(req).await;
    if r.status().is_client_error() {
        st.metrics.client_errors.fetch_add(1, Relaxed);
    }
    r.headers_mut().insert(
        header::HeaderName::from_static("x-tickbench-epoch"),
        header::HeaderValue::from(st.epoch_us),
    );
    r
}
