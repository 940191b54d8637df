//! Every error answer: one enum, one JSON shape (`{"error":..,"param":..}`), so clients and
//! tests can act on `param` instead of parsing prose.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An error the client can act on. Internal causes are logged, never echoed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Malformed or out-of-range query parameter or body field.
    #[error("{msg}")]
    BadParam { param: String, msg: String },
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("order body must be application/json")]
    UnsupportedMediaType,
    #[error("server is at its connection cap, retry shortly")]
    Overloaded,
}

impl ApiError {
    pub fn param(param: &str, msg: impl Into<String>) -> ApiError {
        ApiError::BadParam {
            param: param.to_string(),
            msg: msg.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParam { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let param = match self {
            ApiError::BadParam { param, .. } => Some(param.clone()),
            _ => None,
        };
        let e = tickbench_wire::ApiError {
            error: self.to_string(),
            param,
        };
        serde_json::to_string(&e).unwrap_or_else(|_| r#"{"error":"internal error"}"#.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        if matches!(self, ApiError::Overloaded) {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}
