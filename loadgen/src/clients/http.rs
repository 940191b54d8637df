//! The HTTP plumbing every client shares: the per-client `reqwest::Client`, URL building into a
//! reused buffer, and turning failures into [`ErrorKind`]s.

use std::net::IpAddr;
use std::time::Duration;

use super::sink::ErrorKind;

/// How long a TCP connect may take before it counts as [`ErrorKind::Connect`]. Loopback connects
/// take microseconds; seconds mean the listener's backlog is full, which is worth reporting.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The `reqwest::Client` of ONE simulated client, like one browser tab: its own keep-alive
/// connection (at most one idle per host, so it reuses exactly one), no proxy lookup (loopback
/// only, and proxy env vars would silently change what is measured), `TCP_NODELAY` (small
/// requests must not wait for Nagle), HTTP/1.1 as the protocol specifies.
///
/// `local_addr` binds the source address, so a run can spread clients over `127.0.0.x` and
/// not run out of ephemeral ports towards one destination.
pub fn http_client(local_addr: Option<IpAddr>) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .connect_timeout(CONNECT_TIMEOUT)
        .http1_only()
        .local_address(local_addr);
    // Building only fails when the TLS backend or resolver cannot start; neither is compiled in.
    builder
        .build()
        .unwrap_or_else(|e| panic!("building the HTTP client cannot fail without TLS: {e}"))
}

/// The error kind of a failed request or body read.
///
/// reqwest reports a body that broke off mid-way (a reset, a cut, a server killed while it
/// streamed) as a *decode* error, because body reads pass through its decoder. Without a content
/// encoding compiled in, that decoder passes bytes through and cannot fail on its own, and every
/// body is parsed by our own code (whose failures are counted as `parse` there), so a reqwest
/// decode error is a broken connection: `io`.
pub fn classify(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_connect() {
        ErrorKind::Connect
    } else if e.is_decode() || e.is_body() {
        ErrorKind::Io
    } else if let Some(s) = e.status() {
        ErrorKind::Status(s.as_u16())
    } else {
        ErrorKind::Io
    }
}

/// `Retry-After` as delay-seconds (the server sends seconds; an HTTP date is ignored).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = v.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(300)))
}

/// Appends `&key=value` (or `?key=value` for the first parameter) to `url`.
pub fn push_param(url: &mut String, key: &str, value: impl std::fmt::Display) {
    use std::fmt::Write;
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(key);
    url.push('=');
    let _ = write!(url, "{value}");
}

/// Appends `symbols=A,B,C` with each symbol percent-encoded (symbols like `BRK.B` pass as is).
pub fn push_symbols(url: &mut String, symbols: &[String]) {
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str("symbols=");
    for (i, s) in symbols.iter().enumerate() {
        if i > 0 {
            url.push(',');
        }
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
                url.push(b as char);
            } else {
                url.push('%');
                url.push(char::from(b"0123456789ABCDEF"[(b >> 4) as usize]));
                url.push(char::from(b"0123456789ABCDEF"[(b & 15) as usize]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_query_strings() {
        let mut u = String::from("http://127.0.0.1:1/poll");
        push_param(&mut u, "since", 5);
        push_symbols(&mut u, &["AAPL".into(), "BRK.B".into(), "A&B".into()]);
        assert_eq!(
            u,
            "http://127.0.0.1:1/poll?since=5&symbols=AAPL,BRK.B,A%26B"
        );
    }

    #[test]
    fn client_builds() {
        let _ = http_client(None);
        let _ = http_client(Some("127.0.0.2".parse().unwrap()));
    }
}
