//! The request vocabulary every endpoint shares: the query parameters `since`, `symbols`,
//! `limit`, `timeout` and `callback`, their ranges, defaults and error messages.
//!
//! This is the grammar alone: [`Query::parse`] splits a query string and rejects a known
//! parameter given twice; each accessor then checks its one parameter. What needs the server's
//! state (is `since` ahead of the journal, is a symbol known) is the server's to decide. Checks
//! run when an accessor is called, so the server, asking in a fixed order, always reports the
//! same fault first when a request has several.

use std::borrow::Cow;

/// Most symbols one watchlist may name.
pub const MAX_SYMBOLS: usize = 1_000;
/// Ticks per answer when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 10_000;
/// Largest `limit`.
pub const MAX_LIMIT: usize = 100_000;
/// Long-poll hold when `timeout` is not given, seconds.
pub const DEFAULT_TIMEOUT_S: u64 = 30;
/// Longest long-poll hold, seconds.
pub const MAX_TIMEOUT_S: u64 = 120;

/// The parameters the protocol defines, as they appear in a query string.
pub const PARAMS: [&str; 5] = ["since", "symbols", "limit", "timeout", "callback"];

/// A bad query parameter: which one, and a message the client can act on (the protocol's
/// `{"error":..,"param":..}` body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub struct QueryError {
    /// One of [`PARAMS`].
    pub param: &'static str,
    pub msg: String,
}

impl QueryError {
    fn new(param: &'static str, msg: impl Into<String>) -> Self {
        QueryError {
            param,
            msg: msg.into(),
        }
    }
}

/// The known parameters of one query string, each given at most once, not yet checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query<'a> {
    since: Option<Cow<'a, str>>,
    symbols: Option<Cow<'a, str>>,
    limit: Option<Cow<'a, str>>,
    timeout: Option<Cow<'a, str>>,
    callback: Option<Cow<'a, str>>,
}

impl<'a> Query<'a> {
    /// Splits a query string (form-urlencoded). Unknown parameters, such as cache-busters, are
    /// ignored; a known one given twice is an error, since silently picking one would hide a
    /// client bug.
    pub fn parse(query: &'a str) -> Result<Query<'a>, QueryError> {
        let mut q = Query::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let (param, slot) = match &*k {
                "since" => ("since", &mut q.since),
                "symbols" => ("symbols", &mut q.symbols),
                "limit" => ("limit", &mut q.limit),
                "timeout" => ("timeout", &mut q.timeout),
                "callback" => ("callback", &mut q.callback),
                _ => continue,
            };
            if slot.is_some() {
                return Err(QueryError::new(
                    param,
                    format!("{param} given more than once"),
                ));
            }
            *slot = Some(v);
        }
        Ok(q)
    }

    /// `since`, the cursor: `None` when not given ("from now").
    pub fn since(&self) -> Result<Option<u64>, QueryError> {
        self.since
            .as_deref()
            .map(|v| unsigned("since", v))
            .transpose()
    }

    /// `symbols`, the watchlist: `None` when not given (every symbol), else its names in order,
    /// each trimmed or the error at that position (so a resolver stops at the first fault).
    pub fn symbols(&self) -> Result<Option<SymbolNames<'_>>, QueryError> {
        match self.symbols.as_deref() {
            None => Ok(None),
            Some(list) if list.trim().is_empty() => {
                Err(QueryError::new("symbols", "symbols must not be empty"))
            }
            Some(list) => Ok(Some(SymbolNames {
                names: list.split(','),
                index: 0,
            })),
        }
    }

    /// `limit`, most ticks per answer: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when not given.
    pub fn limit(&self) -> Result<usize, QueryError> {
        let Some(v) = self.limit.as_deref() else {
            return Ok(DEFAULT_LIMIT);
        };
        let n = unsigned("limit", v)?;
        if !(1..=MAX_LIMIT as u64).contains(&n) {
            return Err(QueryError::new(
                "limit",
                format!("limit must be 1 to {MAX_LIMIT}"),
            ));
        }
        Ok(n as usize)
    }

    /// `timeout`, a long-poll's hold in seconds: 1 to [`MAX_TIMEOUT_S`],
    /// [`DEFAULT_TIMEOUT_S`] when not given.
    pub fn timeout_s(&self) -> Result<u64, QueryError> {
        let Some(v) = self.timeout.as_deref() else {
            return Ok(DEFAULT_TIMEOUT_S);
        };
        let n = unsigned("timeout", v)?;
        if !(1..=MAX_TIMEOUT_S).contains(&n) {
            return Err(QueryError::new(
                "timeout",
                format!("timeout must be 1 to {MAX_TIMEOUT_S} seconds"),
            ));
        }
        Ok(n)
    }

    /// `callback`, the JSONP function name, when given; see [`valid_callback`].
    pub fn callback(&self) -> Result<Option<&str>, QueryError> {
        match self.callback.as_deref() {
            Some(cb) if !valid_callback(cb) => Err(QueryError::new(
                "callback",
                "callback must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$",
            )),
            cb => Ok(cb),
        }
    }
}

/// The names of a `symbols` list, trimmed, in order; an empty name, or more than
/// [`MAX_SYMBOLS`] names, is an error at its position.
#[derive(Debug, Clone)]
pub struct SymbolNames<'q> {
    names: std::str::Split<'q, char>,
    index: usize,
}

impl<'q> Iterator for SymbolNames<'q> {
    type Item = Result<&'q str, QueryError>;

    fn next(&mut self) -> Option<Self::Item> {
        let name = self.names.next()?;
        let i = self.index;
        self.index += 1;
        if i >= MAX_SYMBOLS {
            return Some(Err(QueryError::new(
                "symbols",
                format!("at most {MAX_SYMBOLS} symbols per request"),
            )));
        }
        let name = name.trim();
        if name.is_empty() {
            return Some(Err(QueryError::new("symbols", "empty symbol name in list")));
        }
        Some(Ok(name))
    }
}

fn unsigned(param: &'static str, v: &str) -> Result<u64, QueryError> {
    v.parse::<u64>()
        .map_err(|_| QueryError::new(param, format!("{param} must be an unsigned integer")))
}

/// `^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$`: an identifier path, nothing that could break out of the
/// `fn(...)` call a JSONP answer wraps the batch in.
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

    fn err<T: std::fmt::Debug>(r: Result<T, QueryError>) -> (&'static str, String) {
        let e = r.unwrap_err();
        (e.param, e.msg)
    }

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

    #[test]
    fn defaults_and_values() {
        let q = Query::parse("x=1&_=2").unwrap();
        assert_eq!(q.since(), Ok(None));
        assert!(q.symbols().unwrap().is_none());
        assert_eq!(q.limit(), Ok(DEFAULT_LIMIT));
        assert_eq!(q.timeout_s(), Ok(DEFAULT_TIMEOUT_S));
        assert_eq!(q.callback(), Ok(None));
        let q =
            Query::parse("since=0&symbols=%20aapl%2CMSFT&limit=5&timeout=120&callback=cb").unwrap();
        assert_eq!(q.since(), Ok(Some(0)));
        let names: Vec<_> = q.symbols().unwrap().unwrap().collect();
        assert_eq!(names, [Ok("aapl"), Ok("MSFT")]);
        assert_eq!(q.limit(), Ok(5));
        assert_eq!(q.timeout_s(), Ok(120));
        assert_eq!(q.callback(), Ok(Some("cb")));
    }

    /// Every message the protocol gives for a bad parameter, word for word.
    #[test]
    fn error_messages() {
        let e = |s: &'static str, m: &str| (s, m.to_string());
        assert_eq!(
            err(Query::parse("limit=1&since=1&since=2")),
            e("since", "since given more than once")
        );
        assert_eq!(
            err(Query::parse("callback=a&callback=a")),
            e("callback", "callback given more than once")
        );
        fn q(s: &str) -> Query<'_> {
            Query::parse(s).unwrap()
        }
        assert_eq!(
            err(q("since=-1").since()),
            e("since", "since must be an unsigned integer")
        );
        assert_eq!(
            err(q("symbols=%20").symbols()),
            e("symbols", "symbols must not be empty")
        );
        let with_empty = q("symbols=A,,B");
        let names: Vec<_> = with_empty.symbols().unwrap().unwrap().collect();
        assert_eq!(names[0], Ok("A"));
        assert_eq!(
            names[1].clone().map_err(|e| (e.param, e.msg)),
            Err(e("symbols", "empty symbol name in list"))
        );
        let many = vec!["A"; MAX_SYMBOLS + 1].join(",");
        let many = format!("symbols={many}");
        let too_many = q(&many);
        let names = too_many.symbols().unwrap().unwrap();
        let last = names.last().unwrap();
        assert_eq!(
            last.map_err(|e| (e.param, e.msg)),
            Err(e("symbols", "at most 1000 symbols per request"))
        );
        assert_eq!(
            err(q("limit=0").limit()),
            e("limit", "limit must be 1 to 100000")
        );
        assert_eq!(
            err(q("limit=x").limit()),
            e("limit", "limit must be an unsigned integer")
        );
        assert_eq!(
            err(q("timeout=121").timeout_s()),
            e("timeout", "timeout must be 1 to 120 seconds")
        );
        assert_eq!(
            err(q("callback=alert(1)").callback()),
            e(
                "callback",
                "callback must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$"
            )
        );
    }
}
