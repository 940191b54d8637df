//! The browser page at `/`: a live ticker board fed by one selectable technique
//! (`/?transport=NAME&symbols=A,B`), or every technique at once (`/?view=compare`), with each
//! technique's delivery counters, loss checks and latency in the page and in
//! `window.tickbench.stats()`.
//!
//! Plain HTML, CSS and JavaScript embedded in the binary (`include_str!`: no build step, no
//! CDN). Every answer carries a strict Content-Security-Policy: scripts, styles, fetches, frames
//! and images from this origin only, no inline script or style, no `eval`. Tick data only ever
//! reaches the document as `textContent` (or canvas pixels), never as HTML. The JSONP technique's
//! `<script src="/poll?callback=..">` and the forever iframe (`/iframe`, a document of its own)
//! are same-origin, so the policy allows them.
//!
//! # Layout
//! - `index.html`, `style.css`: the document and its one stylesheet.
//! - `stats.js`: sequence checks, cursor, counters, the log-bucket latency histogram.
//! - `board.js`: the ticker board (textContent and canvas only).
//! - `techniques.js`: one implementation per technique, as a browser of its era wrote it.
//! - `compare.js`: the compare view and its stall explanation.
//! - `app.js`: query, snapshot, the context every technique reports into, `window.tickbench`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tickbench_wire::Technique;

use crate::api_error::ApiError;
use crate::params;
use crate::state::AppState;

/// The policy every page answer carries. `'self'` in `connect-src` covers the same-origin
/// WebSocket (`ws:`/`wss:` to this host) in CSP Level 3 browsers.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'self'";

/// The embedded files: (path, content type, body).
const ASSETS: [(&str, &str, &str); 6] = [
    (
        "/page/style.css",
        "text/css; charset=utf-8",
        include_str!("style.css"),
    ),
    (
        "/page/stats.js",
        "text/javascript; charset=utf-8",
        include_str!("stats.js"),
    ),
    (
        "/page/board.js",
        "text/javascript; charset=utf-8",
        include_str!("board.js"),
    ),
    (
        "/page/techniques.js",
        "text/javascript; charset=utf-8",
        include_str!("techniques.js"),
    ),
    (
        "/page/compare.js",
        "text/javascript; charset=utf-8",
        include_str!("compare.js"),
    ),
    (
        "/page/app.js",
        "text/javascript; charset=utf-8",
        include_str!("app.js"),
    ),
];

const INDEX: &str = include_str!("index.html");

/// Adds `/` and the page's assets to `router`.
pub fn routes(mut router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router = router.route("/", get(index));
    for (path, ctype, body) in ASSETS {
        router = router.route(path, get(move || async move { asset(ctype, body) }));
    }
    router
}

/// `/`: the page, once its query is valid (a 400 naming the parameter otherwise, as every
/// endpoint answers).
async fn index(State(st): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    if let Err(e) = check_query(&query, &st) {
        return e.into_response();
    }
    page_response("text/html; charset=utf-8", INDEX, "no-cache")
}

/// The page's own parameters; `symbols` (and any `since`, `limit`, …) as every endpoint checks
/// them. Unknown parameters are ignored, as elsewhere.
fn check_query(query: &str, st: &AppState) -> Result<(), ApiError> {
    params::parse(query, st)?;
    let mut seen = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let known = ["transport", "view", "interval", "actions", "embed", "tabs"];
        if !known.contains(&k.as_ref()) {
            continue;
        }
        if seen.contains(&k) {
            return Err(ApiError::param(&k, format!("{k} given twice")));
        }
        match k.as_ref() {
            "transport" => {
                v.parse::<Technique>()
                    .map_err(|e| ApiError::param("transport", e.to_string()))?;
            }
            "view" if v != "compare" => {
                return Err(ApiError::param("view", "view must be 'compare'"));
            }
            "interval" => number(&v, "interval", 50, 600_000, "milliseconds")?,
            "actions" => number(&v, "actions", 0, 100, "actions per second")?,
            "tabs" => number(&v, "tabs", 1, 4, "tabs")?,
            "embed" if v != "0" && v != "1" => {
                return Err(ApiError::param("embed", "embed must be 0 or 1"));
            }
            _ => {}
        }
        seen.push(k);
    }
    Ok(())
}

/// Checks that `v` is a whole number in `lo..=hi`.
fn number(v: &str, name: &str, lo: u64, hi: u64, unit: &str) -> Result<(), ApiError> {
    match v.parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(()),
        _ => Err(ApiError::param(
            name,
            format!("{name} must be a whole number of {unit} from {lo} to {hi}"),
        )),
    }
}

/// An embedded asset: cacheable for a few minutes (the compare view's ten frames load the same
/// scripts; over HTTP/1.1 every request saved is a connection slot saved).
fn asset(ctype: &'static str, body: &'static str) -> Response {
    page_response(ctype, body, "max-age=300")
}

fn page_response(ctype: &'static str, body: &'static str, cache: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    r
}
