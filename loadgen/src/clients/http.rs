//! The HTTP plumbing every client shares: the `reqwest::Client` of a client (its own, or one
//! shared by several tabs over HTTP/2) for HTTP/1.1 or HTTP/2, plaintext or TLS; URL building
//! into a reused buffer; and turning failures into [`ErrorKind`]s.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::sink::ErrorKind;
use super::tls::Trust;

/// How long a TCP connect may take before it counts as [`ErrorKind::Connect`]. Loopback connects
/// take microseconds; seconds mean the listener's backlog is full, which is worth reporting.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How clients speak to the server: HTTP version and TLS.
#[derive(Debug, Clone, Default)]
pub struct HttpSpec {
    /// HTTP/2 (prior knowledge in plaintext, ALPN `h2` only over TLS) instead of HTTP/1.1.
    pub http2: bool,
    /// For `https://` servers: the rustls configuration (ALPN set to the one protocol above)
    /// from the run's [`Trust`]; `None` for plaintext.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl HttpSpec {
    /// The spec for `http2` over TLS accepting what `trust` accepts (`None`: plaintext).
    pub fn new(http2: bool, trust: Option<&Trust>) -> Result<HttpSpec, String> {
        let alpn: &[u8] = if http2 { b"h2" } else { b"http/1.1" };
        let tls = match trust {
            Some(t) => Some(Arc::new(t.client_config(alpn)?)),
            None => None,
        };
        Ok(HttpSpec { http2, tls })
    }

    /// The TLS configuration offering only `http/1.1` (a WebSocket upgrade is HTTP/1.1's,
    /// whatever the HTTP transports speak); `None` for plaintext.
    pub fn tls_http1(&self) -> Option<Arc<rustls::ClientConfig>> {
        let cfg = self.tls.as_ref()?;
        if cfg.alpn_protocols == [b"http/1.1".to_vec()] {
            return Some(cfg.clone());
        }
        let mut c = rustls::ClientConfig::clone(cfg);
        c.alpn_protocols = vec![b"http/1.1".to_vec()];
        Some(Arc::new(c))
    }

    /// A `reqwest::Client` of this spec (see [`http_client`]); fails only if the TLS backend
    /// cannot start.
    pub fn build(&self, local_addr: Option<IpAddr>) -> Result<reqwest::Client, reqwest::Error> {
        self.builder().local_address(local_addr).build()
    }

    /// The builder [`build`](Self::build) uses, for callers that add settings (timeouts).
    pub fn builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1)
            .connect_timeout(CONNECT_TIMEOUT);
        let builder = if self.http2 {
            builder.http2_prior_knowledge()
        } else {
            builder.http1_only()
        };
        // A clone of a rustls configuration shares its verifier, roots and session store (they
        // are `Arc`s): a few hundred bytes per client.
        let tls = self.tls.as_deref().unwrap_or_else(|| plaintext_tls());
        builder.use_preconfigured_tls(rustls::ClientConfig::clone(tls))
    }
}

/// The TLS configuration of plaintext clients, which never speak TLS: one for the process.
/// Without it reqwest (built with rustls) makes each client a configuration of its own, with
/// the web roots (11.6 KB) and a TLS session cache (13.9 KB of hash table) that no `http://`
/// request ever uses: at 10,000 clients, a quarter of a gigabyte.
fn plaintext_tls() -> &'static rustls::ClientConfig {
    static TLS: OnceLock<rustls::ClientConfig> = OnceLock::new();
    TLS.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        cfg.resumption = rustls::client::Resumption::disabled();
        cfg
    })
}

/// Where a simulated client's requests go out: its own connection, or one it shares with
/// other tabs of the same origin (HTTP/2, `--tabs-per-conn`).
#[derive(Debug, Clone)]
pub enum Connection {
    /// A `reqwest::Client` of its own, built when the client starts.
    Own(HttpSpec),
    /// This client, shared (one HTTP/2 connection carrying every tab's streams).
    Shared(reqwest::Client),
}

impl Default for Connection {
    fn default() -> Self {
        Connection::Own(HttpSpec::default())
    }
}

impl Connection {
    /// The client to send through, bound to `local_addr` when it is its own.
    pub fn client(&self, local_addr: Option<IpAddr>) -> reqwest::Client {
        match self {
            // The spec was built once by the run (or is the plaintext default), which checked
            // that it builds; a failure now would be the TLS backend failing to start.
            Connection::Own(spec) => spec
                .build(local_addr)
                .unwrap_or_else(|e| panic!("building an HTTP client of a checked spec: {e}")),
            Connection::Shared(c) => c.clone(),
        }
    }
}

/// The `reqwest::Client` of ONE simulated client, like one browser tab: its own keep-alive
/// connection (at most one idle per host, so it reuses exactly one), no proxy lookup (loopback
/// only, and proxy env vars would silently change what is measured), `TCP_NODELAY` (small
/// requests must not wait for Nagle), HTTP/1.1 in plaintext as the protocol specifies
/// ([`HttpSpec`] for HTTP/2 and TLS).
///
/// `local_addr` binds the source address, so a run can spread clients over `127.0.0.x` and
/// not run out of ephemeral ports towards one destination.
pub fn http_client(local_addr: Option<IpAddr>) -> reqwest::Client {
    Connection::default().client(local_addr)
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
        let spec = HttpSpec::new(true, Some(&Trust::Insecure)).unwrap();
        assert!(spec.build(None).is_ok());
        let spec = HttpSpec::new(true, Some(&Trust::WebRoots)).unwrap();
        assert!(spec.build(None).is_ok());
        let h1 = spec.tls_http1().unwrap();
        assert_eq!(h1.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
