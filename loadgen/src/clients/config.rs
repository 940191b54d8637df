//! [`ClientConfig`], what one simulated client is told, and [`ReadRate`], a slow consumer's pace.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tickbench_wire::Transport;

use super::http::Connection;
use crate::targets::TargetKind;

/// Everything one simulated client needs to know. Cheap to clone: the watchlist and the snapshot
/// baseline are shared (`Arc`) between the clients that use the same ones.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Server root, e.g. `http://127.0.0.1:8080/`.
    pub base: reqwest::Url,
    pub transport: Transport,
    /// Watchlist sent as `symbols=`; `None` = every symbol.
    pub symbols: Option<Arc<[String]>>,
    /// Poll / JSONP: time between scheduled requests.
    pub poll_interval: Duration,
    /// Piggyback: application requests per second (Poisson).
    pub action_rate: f64,
    /// Long-poll hold the client asks for (whole seconds, clamped to 1..=120).
    pub longpoll_timeout: Duration,
    /// Starting cursor; `None` = from now.
    pub since: Option<u64>,
    /// Seed of the client's RNG (start phase, backoff jitter, action mix).
    pub seed: u64,
    /// `sseq` per symbol from a snapshot: those symbols must continue exactly from there (the
    /// viewer); others set their baseline on first sight.
    pub known_sseq: Option<Arc<HashMap<String, u64>>>,
    /// Streams: no bytes for this long (or no response headers) => reconnect. Must exceed the
    /// server's 15 s heartbeat.
    pub stream_timeout: Duration,
    /// Streams: a slow consumer reads at most this many bytes per second (`--slow-clients`), over
    /// a connection with a small receive window ([`slowlink`](super::slowlink)), so the backlog waits at the
    /// server, which falls behind in its journal for it and must declare a gap. `None` = read
    /// as fast as chunks arrive, over the client's reqwest connection.
    pub read_rate: Option<ReadRate>,
    /// Loopback source address to connect from (a run spreads large client counts over
    /// 127.0.0.x), for the client's reqwest client and a slow consumer's own connections
    /// ([`slowlink`](super::slowlink)). `None` = the kernel's choice.
    pub local_addr: Option<std::net::IpAddr>,
    /// The server `base` is: tickbench's own (and Pushpin, whose GRIP backend speaks tickbench's
    /// protocol) or Nchan, whose native transports have their own loops
    /// ([`nchan`](super::nchan)).
    pub target: TargetKind,
    /// The connection its requests go out on: its own (HTTP/1.1 or HTTP/2, plaintext or TLS),
    /// or one shared with other tabs (`--tabs-per-conn`).
    pub connection: Connection,
    /// Other edges of the same feed to move to when `base` is gone (`run --failover`), resuming
    /// by the cursor ([`failover`](super::failover)); `None` or empty: stay on `base`.
    pub failover: Option<Arc<[reqwest::Url]>>,
}

impl ClientConfig {
    /// A config with the defaults a run uses: 1 s polls, 1 action/s, 30 s long-poll holds, 45 s
    /// stream timeout, all symbols, from now.
    pub fn new(base: reqwest::Url, transport: Transport) -> Self {
        Self {
            base,
            transport,
            symbols: None,
            poll_interval: Duration::from_secs(1),
            action_rate: 1.0,
            longpoll_timeout: Duration::from_secs(30),
            since: None,
            seed: 0,
            known_sseq: None,
            stream_timeout: Duration::from_secs(45),
            read_rate: None,
            local_addr: None,
            target: TargetKind::Tickbench,
            connection: Connection::default(),
            failover: None,
        }
    }
}

/// A slow consumer's read rate, bytes per second: after each chunk of `n` bytes the client waits
/// until `n / rate` has passed before reading again. By bytes, not by chunks, because a server
/// catching up coalesces many ticks into one chunk: a chunk-paced reader would speed up exactly
/// when it falls behind. Shared and adjustable while the client runs (a test lets a slow reader
/// catch up to see what the server declared); 0 reads at full speed.
#[derive(Debug, Clone, Default)]
pub struct ReadRate(Arc<std::sync::atomic::AtomicU64>);

impl ReadRate {
    pub fn new(bytes_per_s: u64) -> Self {
        let p = ReadRate::default();
        p.set(bytes_per_s);
        p
    }

    /// Changes the rate; 0 reads at full speed.
    pub fn set(&self, bytes_per_s: u64) {
        self.0
            .store(bytes_per_s, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How long reading `n` bytes takes at this rate.
    pub fn time_for(&self, n: usize) -> Duration {
        match self.get() {
            0 => Duration::ZERO,
            r => Duration::from_secs_f64(n as f64 / r as f64),
        }
    }
}
