//! Piggyback: ticks ride on the answers to the application's own requests,
//! `GET /api/quote/{sym}?since=` and `POST /api/orders?since=`, as the batch fields flattened
//! next to the application payload.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use tickbench_wire::framing::batch;
use tickbench_wire::{now_micros, OrderAck, Side, Transport};

use super::delivery::count_batch;
use crate::api_error::ApiError;
use crate::json::json_response;
use crate::params::Params;
use crate::state::AppState;

/// Largest accepted order body.
pub const MAX_BODY: usize = 16 * 1024;
const MAX_QTY: u64 = 1_000_000;

/// `{"quote":{..},"next":..,"ticks":[..],"gap":..}` / `{"order":{..},...}`.
fn respond(
    st: &AppState,
    p: &Params,
    status: StatusCode,
    key: &str,
    payload: &impl serde::Serialize,
) -> Response {
    let out = st.journal.read(p.since, &p.filter, p.limit, usize::MAX);
    let mut body = Vec::new();
    batch::encode_flattened(&mut body, key, payload, out.next, &out.ticks, out.gap);
    count_batch(st, Transport::Piggyback, &out, body.len());
    json_response(status, body)
}

pub async fn quote(
    State(st): State<Arc<AppState>>,
    sym: Result<Path<String>, PathRejection>,
    p: Params,
) -> Result<Response, ApiError> {
    st.metrics
        .t(Transport::Piggyback)
        .requests
        .fetch_add(1, Relaxed);
    let Path(sym) = sym.map_err(|e| ApiError::param("sym", e.body_text()))?;
    let id = st
        .universe
        .lookup(&sym.to_ascii_uppercase())
        .ok_or_else(|| {
            let shown: String = sym.chars().take(32).collect();
            ApiError::NotFound(format!("unknown symbol '{shown}'"))
        })?;
    let q = st.journal.quote(&st.universe, id);
    Ok(respond(&st, &p, StatusCode::OK, "quote", &q))
}

pub async fn order(
    State(st): State<Arc<AppState>>,
    p: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    st.metrics
        .t(Transport::Piggyback)
        .requests
        .fetch_add(1, Relaxed);
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::PayloadTooLarge(MAX_BODY));
    }
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|e| {
        if is_length_limit(&e) {
            ApiError::PayloadTooLarge(MAX_BODY)
        } else {
            // The client broke off or sent a malformed chunked body: not a size problem.
            tracing::debug!("order body: {e}");
            ApiError::param("body", "the request body could not be read")
        }
    })?;
    let (sym, side, qty, limit) = validate_order(&st, &bytes)?;
    let ack = OrderAck {
        id: st.order_ids.fetch_add(1, Relaxed) + 1,
        sym,
        side,
        qty,
        limit,
        status: "accepted".into(),
        ts: now_micros(),
    };
    Ok(respond(&st, &p, StatusCode::CREATED, "order", &ack))
}

/// Whether reading a body failed because it was over the limit (anywhere in the source chain).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        src = s.source();
    }
    false
}

/// Checks an order field by field, so the 400 names the field at fault.
fn validate_order(
    st: &AppState,
    bytes: &[u8],
) -> Result<(String, Side, u32, Option<f64>), ApiError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::param("body", format!("order body is not valid JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(ApiError::param("body", "order body must be a JSON object"));
    };
    for k in obj.keys() {
        if !matches!(k.as_str(), "sym" | "side" | "qty" | "limit") {
            let shown: String = k.chars().take(32).collect();
            return Err(ApiError::param(
                &shown,
                format!("unknown field '{shown}' (expected sym, side, qty, limit)"),
            ));
        }
    }
    let sym = match obj.get("sym") {
        Some(Value::String(s)) => s.to_ascii_uppercase(),
        Some(_) => return Err(ApiError::param("sym", "sym must be a string")),
        None => return Err(ApiError::param("sym", "sym is required")),
    };
    if st.universe.lookup(&sym).is_none() {
        let shown: String = sym.chars().take(32).collect();
        return Err(ApiError::param("sym", format!("unknown symbol '{shown}'")));
    }
    let side = match obj.get("side").and_then(Value::as_str) {
        Some("buy") => Side::Buy,
        Some("sell") => Side::Sell,
        _ => return Err(ApiError::param("side", "side must be \"buy\" or \"sell\"")),
    };
    let qty = match obj.get("qty").and_then(Value::as_u64) {
        Some(q) if (1..=MAX_QTY).contains(&q) => q as u32,
        _ => {
            return Err(ApiError::param(
                "qty",
                format!("qty must be an integer from 1 to {MAX_QTY}"),
            ))
        }
    };
    let limit = match obj.get("limit") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(l) if l.is_finite() && l > 0.0 => Some(l),
            _ => return Err(ApiError::param("limit", "limit must be a number > 0")),
        },
    };
    Ok((sym, side, qty, limit))
}
