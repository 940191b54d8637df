//! Simulated clients, one module per transport, behind one entry point ([`run_client`]) and one
//! reporting trait ([`Sink`]). The load generator's workers and the terminal ticker both use them.
//!
//! Each simulated client behaves like one browser tab: its own keep-alive connection (its own
//! [`http_client`]), its own watchlist and cursor, and its transport's natural loop. Every tick it
//! receives goes through its [`SeqChecker`] and is reported with the client clock read right after
//! parsing; every failure is counted, backed off (full jitter, capped) and resumed from the cursor,
//! so nothing is lost that the server did not declare lost.
//!
//! # Layout
//! - [`poll`] (interval polling and JSONP), [`piggyback`], [`longpoll`]: the request/answer
//!   transports, sharing the batch delivery path.
//! - [`streaming`]: the one-long-response loop shared by the four streams, feeding each chunk to
//!   its format's incremental parser from [`tickbench_wire::framing`], which yields [`Frame`]s.
//!   The bytes of every format (and their parsers) live there, beside the server's encoders.
//! - [`seq`]: the per-client sequence checker; [`backoff`]: reconnect delays; [`http`]: the
//!   per-client `reqwest::Client` and URL building; [`slowlink`]: the small-window connection of
//!   a slow consumer's stream; `state`: what a client carries between
//!   requests and the reporting paths every loop shares.

pub mod backoff;
pub mod http;
pub mod longpoll;
pub mod piggyback;
pub mod poll;
pub mod seq;
pub mod slowlink;
mod state;
pub mod streaming;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tickbench_wire::{Gap, Tick, Transport};
use tokio_util::sync::CancellationToken;

pub use http::http_client;
pub use seq::SeqChecker;
pub use tickbench_wire::framing::{Frame, FrameParser, ParseError};

use state::ClientState;

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
    /// a connection with a small receive window ([`slowlink`]), so the backlog waits at the
    /// server, which falls behind in its journal for it and must declare a gap. `None` = read
    /// as fast as chunks arrive, over the client's reqwest connection.
    pub read_rate: Option<ReadRate>,
    /// Loopback source address to connect from (a run spreads large client counts over
    /// 127.0.0.x), for the client's reqwest client and a slow consumer's own connections
    /// ([`slowlink`]). `None` = the kernel's choice.
    pub local_addr: Option<std::net::IpAddr>,
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

/// Runs one simulated client until `cancel` fires. Never returns early: every failure is counted
/// through `sink` and retried. Dropping the future (or cancelling) closes its connection.
///
/// The future is `Send` when `S` is, so it runs on per-worker current-thread runtimes with `Rc`
/// sinks as well as on a multi-thread runtime with an `Arc` sink.
pub async fn run_client<S: Sink>(
    cfg: ClientConfig,
    http: reqwest::Client,
    sink: S,
    cancel: CancellationToken,
) {
    let mut client = ClientState::new(cfg, http, sink);
    tokio::select! {
        biased;
        _ = cancel.cancelled() => {}
        _ = run_transport(&mut client) => {}
    }
    client.shutdown();
}

async fn run_transport<S: Sink>(c: &mut ClientState<S>) {
    match c.cfg.transport {
        Transport::Poll => poll::run(c, false).await,
        Transport::Jsonp => poll::run(c, true).await,
        Transport::Piggyback => piggyback::run(c).await,
        Transport::Longpoll => longpoll::run(c).await,
        Transport::Stream | Transport::Sse | Transport::Multipart | Transport::Iframe => {
            streaming::run(c).await
        }
    }
}

/// How a tick compared with the last one this client saw of the same symbol (by `sseq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOutcome {
    /// `sseq` is exactly last + 1 (or the first tick seen of the symbol).
    InOrder,
    /// `sseq` jumped ahead: this many ticks of the symbol were never delivered.
    Gap(u64),
    /// `sseq` equals one already delivered.
    Duplicate,
    /// `sseq` is lower than the last delivered (and not a duplicate we can tell apart).
    OutOfOrder,
}

/// Kinds of client errors; [`ErrorKind::key`] is the key in `summary.json`'s `errors` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// TCP connect failed or was refused.
    Connect,
    /// A request or a stream read timed out.
    Timeout,
    /// The server answered with a non-success status.
    Status(u16),
    /// A body or frame could not be parsed.
    Parse,
    /// The connection broke mid-response.
    Io,
}

impl ErrorKind {
    /// `connect`, `timeout`, `status_503`, `parse`, `io`.
    pub fn key(self) -> String {
        match self {
            ErrorKind::Connect => "connect".into(),
            ErrorKind::Timeout => "timeout".into(),
            ErrorKind::Status(s) => format!("status_{s}"),
            ErrorKind::Parse => "parse".into(),
            ErrorKind::Io => "io".into(),
        }
    }
}

/// Where a client reports what happened. Implemented by the load generator's per-worker stats
/// (behind an `Rc`, one per worker thread, no locks) and by the ticker viewer (a channel).
/// Methods take `&self`: implementations use interior mutability.
pub trait Sink {
    /// An HTTP request was sent (a stream (re)connect counts as one).
    fn request(&self);
    /// A request-based answer was fully parsed; `ticks` is how many it carried (0 = empty answer).
    fn answer(&self, ticks: usize);
    /// Response body bytes received (called per chunk for streams).
    fn bytes(&self, n: u64);
    /// One tick was parsed at `recv_us` (µs since the epoch, read right after parsing it).
    fn tick(&self, tick: &Tick, recv_us: u64, outcome: SeqOutcome);
    /// The server declared a gap (the cursor fell out of its journal).
    fn gap_notice(&self, gap: Gap);
    /// Something went wrong; the client will back off and resume from its cursor.
    fn error(&self, kind: ErrorKind);
    /// The client re-established its connection after a failure or a server close.
    fn reconnect(&self);
    /// A scheduled request (poll, action) fired `lag_us` after its scheduled time.
    fn schedule_lag(&self, lag_us: u64);
    /// The client's stream is open (streams) or its first answer arrived (request transports).
    fn connected(&self, up: bool);
}

/// Ticks for the client modules' unit tests.
#[cfg(test)]
pub(crate) mod test_util {
    use tickbench_wire::Tick;

    /// A tick with the given identity and fixed prices.
    pub fn tick(seq: u64, sseq: u64, sym: &str) -> Tick {
        Tick {
            seq,
            sseq,
            sym: sym.into(),
            bid: 1.0,
            ask: 1.01,
            last: 1.0,
            size: 10,
            ts: 1,
        }
    }
}
