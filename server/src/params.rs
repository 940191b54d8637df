//! The query parameters every endpoint takes, resolved against the journal and the universe:
//! the extractor [`Params`].
//!
//! The grammar (names, ranges, defaults, messages) is the protocol's, in
//! [`tickbench_wire::query`]; what needs the server's state is decided here: whether `since` is
//! ahead of the journal, and which symbol ids a watchlist names.
//!
//! Our own extractor rather than axum's `Query<T>`: axum's rejections are plain text, ours are the
//! protocol's JSON errors naming the parameter, and `since` is checked against the journal here so
//! no handler can forget to.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tickbench_wire::query::{Query, QueryError, SymbolNames};

use crate::api_error::ApiError;
use crate::journal::SymFilter;
use crate::state::AppState;

pub use tickbench_wire::query::{
    valid_callback, DEFAULT_LIMIT, DEFAULT_TIMEOUT_S, MAX_LIMIT, MAX_SYMBOLS, MAX_TIMEOUT_S,
};

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

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::param(e.param, e.msg)
    }
}

/// Parses a query string and resolves it against `state`. The parameters are checked in a fixed
/// order (repeats, `since`, `symbols`, `limit`, `timeout`, `callback`), so a request with
/// several faults always hears of the same one.
pub fn parse(query: &str, state: &AppState) -> Result<Params, ApiError> {
    let q = Query::parse(query)?;

    let next = state.journal.next_seq();
    let since = q.since()?;
    let since_given = since.is_some();
    let since = match since {
        None => next,
        Some(n) if n > next => {
            return Err(ApiError::param(
                "since",
                format!("since={n} is ahead of the journal (next seq is {next})"),
            ))
        }
        Some(n) => n,
    };

    let (symbols, filter) = match q.symbols()? {
        None => (None, SymFilter::all()),
        Some(names) => {
            let ids = symbol_ids(names, state)?;
            let f = SymFilter::of(&ids, state.universe.len());
            (Some(ids), f)
        }
    };

    Ok(Params {
        since,
        since_given,
        symbols,
        filter,
        limit: q.limit()?,
        timeout_s: q.timeout_s()?,
        callback: q.callback()?.map(str::to_owned),
    })
}

/// The ids of a watchlist's names, stopping at the first bad or unknown name.
fn symbol_ids(names: SymbolNames<'_>, state: &AppState) -> Result<Vec<u32>, ApiError> {
    let mut ids = Vec::new();
    for name in names {
        let name = name?;
        match state.universe.lookup(&name.to_ascii_uppercase()) {
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
