//! [`json_response`]: the headers every JSON answer (batches and the small endpoints) carries.

use axum::http::header;
use axum::response::{IntoResponse, Response};

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
