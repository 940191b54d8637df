//! The router: which handler answers each path (every transport's from one exhaustive `match`),
//! and the middleware every answer passes through.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tickbench_wire::Transport;

use crate::endpoints;
use crate::page;
use crate::state::AppState;
use crate::transports::{iframe, longpoll, multipart, piggyback, poll, sse, stream, ws};

/// The whole HTTP surface. Separate from the accept loop so a test can drive it directly
/// (`tower::ServiceExt::oneshot`, as `tests/it/in_process.rs` does).
pub fn app(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for t in Transport::ALL {
        router = transport_routes(router, t);
    }
    let router = page::routes(router)
        .route("/snapshot", get(endpoints::snapshot))
        .route("/symbols", get(endpoints::symbols))
        .route("/healthz", get(endpoints::healthz))
        .route("/metrics", get(endpoints::metrics))
        .fallback(endpoints::not_found)
        .method_not_allowed_fallback(endpoints::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            every_answer,
        ));
    crate::slowdown::layer(router, &state).with_state(state)
}

/// Adds transport `t`'s routes. Exhaustive on purpose: a new [`Transport`] does not compile until
/// it is given a handler here.
fn transport_routes(router: Router<Arc<AppState>>, t: Transport) -> Router<Arc<AppState>> {
    match t {
        Transport::Poll => router.route(t.path(), get(poll::handler)),
        // `/poll` with `callback=`: the poll handler hands such requests to `jsonp`.
        Transport::Jsonp => router,
        // The quote lookup takes the symbol as a path segment; orders are the other application
        // request ticks ride on.
        Transport::Piggyback => router
            .route(&format!("{}/{{sym}}", t.path()), get(piggyback::quote))
            .route("/api/orders", post(piggyback::order)),
        Transport::Longpoll => router.route(t.path(), get(longpoll::handler)),
        Transport::Stream => router.route(t.path(), get(stream::handler)),
        Transport::Sse => router.route(t.path(), get(sse::handler)),
        Transport::Multipart => router.route(t.path(), get(multipart::handler)),
        Transport::Iframe => router.route(t.path(), get(iframe::handler)),
        // A WebSocket upgrade on the same port and router (HTTP/1.1 only).
        Transport::Ws => router.route(t.path(), get(ws::handler)),
    }
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
