//! Query-string parsing shared by every endpoint: `since`, `symbols`, `limit`, `timeout`,
//! `callback`.
//!
//! Our own extractor rather than axum's `Query<T>`: axum's rejections are plain text, ours are the
//! protocol's JSON errors naming the parameter, and `since` is checked against the journal here so
//! no handler can forget to.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::api_error::ApiError;
use crate::journal::SymFilter;
use crate::state::AppState;

pub const MAX_SYMBOLS: usize = 1_000;
pub const DEFAULT_LIMIT: usize = 10_000;
pub const MAX_LIMIT: usize = 100_000;
pub const DEFAULT_TIMEOUT_S: u64 = 30;
pub const MAX_TIMEOUT_S: u64 = 120;

/// Parsed and validated common parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// Resolved cursor: the request's `since`, or the journal head ("from now") when absent.
    /// 0 still means "the oldest retained tick".
    pub since: u64,
    /// Whether `since` was given (SSE's `Last-Event-ID` wins over it either way).
    pub since_given: bool,
    /// Symbol ids of the watchlist, `None` for all.
    pub symbols: Option<Vec<u32>>,
    pub filter: SymFilter,
    pub limit: usize,
    pub timeout_s: u64,
    pub callback: Option<String>,
}

impl FromRequestParts<Arc<AppState>> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        parse(parts.uri.query().unwrap_or(""), state)
    }
}

fn unsigned(param: &str, v: &str) -> Result<u64, ApiError> {
    v.parse::<u64>()
        .map_err(|_| ApiError::param(param, format!("{param} must be an unsigned integer")))
}

/// Parses a query string (unknown parameters such as cache-busters are ignored; a known one given
/// twice is an error, since silently picking one would hide a client bug).
pub fn parse(query: &str, state: &AppState) -> Result<Params, ApiError> {
    let mut since = None;
    let mut symbols = None;
    let mut limit = None;
    let mut timeout = None;
    let mut callback = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match &*k {
            "since" => &mut since,
            "symbols" => &mut symbols,
            "limit" => &mut limit,
            "timeout" => &mut timeout,
            "callback" => &mut callback,
            _ => continue,
        };
        if slot.is_some() {
            return Err(ApiError::param(&k, format!("{k} given more than once")));
        }
        *slot = Some(v.into_owned());
    }

    let next = state.journal.next_seq();
    let since_given = since.is_some();
    let since = match since {
        None => next,
        Some(v) => {
            let n = unsigned("since", &v)?;
            if n > next {
                return Err(ApiError::param(
                    "since",
                    format!("since={n} is ahead of the journal (next seq is {next})"),
                ));
            }
            n
        }
    };

    let (symbols, filter) = match symbols {
        None => (None, SymFilter::all()),
        Some(list) => {
            let ids = parse_symbols(&list, state)?;
            let f = SymFilter::of(&ids, state.universe.len());
            (Some(ids), f)
        }
    };

    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(v) => {
            let n = unsigned("limit", &v)?;
            if !(1..=MAX_LIMIT as u64).contains(&n) {
                return Err(ApiError::param(
                    "limit",
                    format!("limit must be 1 to {MAX_LIMIT}"),
                ));
            }
            n as usize
        }
    };

    let timeout_s = match timeout {
        None => DEFAULT_TIMEOUT_S,
        Some(v) => {
            let n = unsigned("timeout", &v)?;
            if !(1..=MAX_TIMEOUT_S).contains(&n) {
                return Err(ApiError::param(
                    "timeout",
                    format!("timeout must be 1 to {MAX_TIMEOUT_S} seconds"),
                ));
            }
            n
        }
    };

    if let Some(cb) = &callback {
        if !valid_callback(cb) {
            return Err(ApiError::param(
                "callback",
                "callback must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$",
            ));
        }
    }

    Ok(Params {
        since,
        since_given,
        symbols,
        filter,
        limit,
        timeout_s,
        callback,
    })
}

fn parse_symbols(list: &str, state: &AppState) -> Result<Vec<u32>, ApiError> {
    if list.trim().is_empty() {
        return Err(ApiError::param("symbols", "symbols must not be empty"));
    }
    let mut ids = Vec::new();
    for (i, name) in list.split(',').enumerate() {
        if i >= MAX_SYMBOLS {
            return Err(ApiError::param(
                "symbols",
                format!("at most {MAX_SYMBOLS} symbols per request"),
            ));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::param("symbols", "empty symbol name in list"));
        }
        let upper = name.to_ascii_uppercase();
        match state.universe.lookup(&upper) {
            Some(id) => ids.push(id),
            None => {
                let shown: String = name.chars().take(32).collect();
                return Err(ApiError::param(
                    "symbols",
                    format!("unknown symbol '{shown}'"),
                ));
            }
        }
    }
    Ok(ids)
}

/// `^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$`: an identifier path, nothing that could break out of the
/// `fn(...)` call the answer wraps the batch in.
pub fn valid_callback(cb: &str) -> bool {
    let b = cb.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b'$')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks() {
        assert!(valid_callback("cb"));
        assert!(valid_callback("$.a_b.c9"));
        assert!(!valid_callback("9a"));
        assert!(!valid_callback(""));
        assert!(!valid_callback("a(b)"));
        assert!(!valid_callback(&"a".repeat(65)));
        assert!(valid_callback(&"a".repeat(64)));
    }
}
