//! The endpoints that are not transports: `/snapshot`, `/symbols`, `/healthz`, `/metrics`, and
//! the 404/405 fallbacks.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tickbench_wire::{Snapshot, SymbolInfo, Symbols};

use crate::api_error::ApiError;
use crate::json::json_response;
use crate::params::Params;
use crate::state::AppState;

/// `GET /snapshot?symbols=`: the latest quote of each (watched) symbol and the cursor to
/// follow them from.
pub async fn snapshot(State(st): State<Arc<AppState>>, p: Params) -> Response {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    let (next, quotes) = st.journal.snapshot(&st.universe, p.symbols.as_deref());
    let body = serde_json::to_vec(&Snapshot { next, quotes }).unwrap_or_default();
    json_response(StatusCode::OK, body)
}

/// `GET /symbols`: the universe and the settings that fix the tick sequence (rate, seed, epoch).
pub async fn symbols(State(st): State<Arc<AppState>>) -> Response {
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
    json_response(StatusCode::OK, serde_json::to_vec(&s).unwrap_or_default())
}

/// `GET /healthz`: liveness, the journal head and the epoch.
pub async fn healthz(State(st): State<Arc<AppState>>) -> Response {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    let body = serde_json::json!({
        "status": "ok",
        "next": st.journal.next_seq(),
        "uptime_s": st.started.elapsed().as_secs(),
        "epoch_us": st.epoch_us,
    });
    json_response(StatusCode::OK, body.to_string())
}

/// `GET /metrics`: the Prometheus text exposition of [`crate::metrics::Metrics`].
pub async fn metrics(State(st): State<Arc<AppState>>) -> Response {
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

/// Every unknown path: a JSON 404 naming it (truncated).
pub async fn not_found(State(st): State<Arc<AppState>>, uri: axum::http::Uri) -> ApiError {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    let path: String = uri.path().chars().take(100).collect();
    ApiError::NotFound(format!("no such endpoint: {path}"))
}

/// A known path with the wrong method: a JSON 405.
pub async fn method_not_allowed(State(st): State<Arc<AppState>>) -> ApiError {
    st.metrics.other_requests.fetch_add(1, Relaxed);
    ApiError::MethodNotAllowed
}
