//! [`Config`]: what the server simulates and how it protects itself, with the limits each
//! setting must stay within.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::feed::{replay::MAX_SPEED, Replay, Source};
use crate::market::{Market, OpenBurst, Pacing, Universe};

/// Highest accepted `--rate`, ticks/s.
pub const MAX_RATE: f64 = 1_000_000.0;
/// Highest accepted `--symbols`.
pub const MAX_SYMBOLS: usize = 10_000;
/// Upper bound of the default connection cap.
pub const DEFAULT_MAX_CONNS: usize = 19_000;
/// How far in the future `--epoch-us` may be (the generator waits for it).
pub const MAX_EPOCH_AHEAD_US: u64 = 3_600 * 1_000_000;
/// Most ticks a restart may have to replay (rate × time since the epoch): a few tens of seconds
/// of market stepping on one core.
pub const MAX_REPLAY_TICKS: u64 = 200_000_000;
/// Default `--sndbuf`: 64 KiB holds ~400 ticks of a stream, seconds of any watchlist even at
/// high rates, yet a reader that stops keeps at most that much queued towards it in the kernel.
pub const DEFAULT_SNDBUF: usize = 64 * 1024;
/// Bounds of a non-zero `--sndbuf`, bytes.
pub const SNDBUF_RANGE: std::ops::RangeInclusive<usize> = 4 * 1024..=16 * 1024 * 1024;
/// Default `--h2-max-streams`: room for a browser's tabs of one origin (the
/// `http2-multiplexing` experiment puts 100 on one connection) with margin, yet a bound on what
/// one connection can make the server hold.
pub const DEFAULT_H2_MAX_STREAMS: u32 = 256;
/// Bounds of `--h2-max-streams`.
pub const H2_MAX_STREAMS_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;
/// File descriptors kept free below the fd limit for the listener, logs and over-cap answers.
const FD_MARGIN: u64 = 256;

/// What the server simulates and how it protects itself.
#[derive(Debug, Clone)]
pub struct Config {
    /// Aggregate tick rate, ticks/s (Poisson). 0 = no automatic ticks (tests drive `publish`).
    pub rate: f64,
    /// Seed of the simulation: the same seed and rate give the same ticks.
    pub seed: u64,
    /// Number of symbols.
    pub symbols: usize,
    /// Ticks the journal retains.
    pub retain: usize,
    /// Connections served at once; beyond it new connections get 503 + `Retry-After`.
    pub max_conns: usize,
    /// Idle interval after which streams send a heartbeat.
    pub heartbeat: Duration,
    /// Time a client has to send complete request headers (slowloris guard). With hyper this
    /// also bounds how long an idle keep-alive connection waits for its next request.
    pub header_timeout: Duration,
    /// How long shutdown waits for connections to finish after the bye frames.
    pub drain: Duration,
    /// The run's time origin, µs since the Unix epoch: tick `ts` = epoch + the Poisson offsets.
    /// `None` = the moment the server starts. A server started with the epoch (and seed, rate,
    /// symbols) of an earlier one replays the market from the epoch up to now and so continues
    /// that server's exact tick sequence (see [`crate::generator::replay`]).
    pub epoch_us: Option<u64>,
    /// Longest a stream may go without catching up with the journal head before its connection
    /// is reset (see `transports` § Slow consumers). Zero disables the cut.
    pub stream_max_behind: Duration,
    /// Kernel send buffer of every connection, bytes (`SO_SNDBUF`; Linux doubles it for its
    /// bookkeeping). 0 leaves the kernel's autotuning, which lets one slow reader pin megabytes
    /// of kernel memory that no RSS figure shows and hide its backlog from `stream_max_behind`.
    pub sndbuf: usize,
    /// The opening burst (`--open-burst`): the first seconds at many times `rate`.
    pub open_burst: Option<OpenBurst>,
    /// Replay this tape instead of simulating (`--replay`): its symbols are the universe and
    /// `seed`, `symbols` and `open_burst` do not apply. Set it with [`Config::with_replay`],
    /// which also sets `rate` to the replay's mean rate.
    pub replay: Option<Replay>,
    /// Serve HTTPS (ALPN `h2`, `http/1.1`) with this certificate; `None` = plain TCP (HTTP/1.1
    /// and h2c).
    pub tls: Option<TlsSource>,
    /// Streams one HTTP/2 connection may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`).
    pub h2_max_streams: u32,
    /// Be an edge of this NATS JetStream feed (`--feed nats://HOST:PORT`): its ticks, seeded
    /// market (seed, symbols, rate) and epoch replace this config's own (see `feed::nats`).
    pub nats: Option<String>,
    /// `--debug-slow`: transports whose ticks are delivered that many times later (gate
    /// validation only; see [`crate::slowdown`]). Empty in every real run.
    pub debug_slow: Vec<crate::slowdown::Slowdown>,
}

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// A certificate for localhost, 127.0.0.1 and ::1 made at start (its fingerprint printed).
    SelfSigned,
    /// PEM files: the certificate chain (leaf first) and its private key.
    Files {
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
    },
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rate: 100.0,
            seed: 1,
            symbols: 500,
            retain: 1_000_000,
            max_conns: default_max_conns(),
            heartbeat: Duration::from_secs(15),
            header_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(2),
            epoch_us: None,
            stream_max_behind: Duration::from_secs(30),
            sndbuf: DEFAULT_SNDBUF,
            open_burst: None,
            replay: None,
            tls: None,
            h2_max_streams: DEFAULT_H2_MAX_STREAMS,
            nats: None,
            debug_slow: Vec::new(),
        }
    }
}

impl Config {
    /// This config replaying `replay`; `rate` becomes the replay's mean rate (what `/symbols`
    /// reports) and `symbols` the tape's count.
    pub fn with_replay(self, replay: Replay) -> Config {
        Config {
            rate: replay.rate(),
            symbols: replay.tape.universe().len(),
            replay: Some(replay),
            ..self
        }
    }

    /// The symbols: the tape's, or `symbols` built-in and generated ones from `seed`.
    pub fn universe(&self) -> Arc<Universe> {
        match &self.replay {
            Some(r) => r.tape.universe().clone(),
            None => Arc::new(Universe::new(self.symbols, self.seed)),
        }
    }

    /// The rate of the simulated market's Poisson clock over the session.
    pub fn pacing(&self) -> Pacing {
        Pacing {
            rate: self.rate,
            burst: self.open_burst,
        }
    }

    /// Where the ticks come from, at the start of the session, over `universe` (this config's
    /// [`universe`](Self::universe)).
    pub fn source(&self, universe: &Universe) -> Source {
        match &self.replay {
            Some(r) => Source::Tape(r.player()),
            None => Market::paced(universe, self.seed, self.pacing()).into(),
        }
    }

    /// True when ticks are scheduled (a rate, or a tape): the paced generator thread runs.
    /// Never on an edge of a NATS feed, whose ticks come from the feed.
    pub fn scheduled(&self) -> bool {
        self.nats.is_none() && (self.rate > 0.0 || self.replay.is_some())
    }

    /// This config as an edge of the feed described by `meta`: its market, epoch and retention
    /// (the journal holds what the stream holds).
    pub fn with_feed_meta(self, meta: &crate::feed::nats::StreamMeta) -> Config {
        Config {
            seed: meta.seed,
            symbols: meta.symbols,
            rate: meta.rate,
            epoch_us: Some(meta.epoch_us),
            retain: meta.retain,
            open_burst: None,
            replay: None,
            ..self
        }
    }

    /// Rejects values the server cannot honour, with a message naming the setting.
    pub fn validate(&self) -> Result<(), Error> {
        self.check().map_err(Error::BadConfig)
    }

    fn check(&self) -> Result<(), String> {
        check_rate(self.rate)?;
        check_symbols(self.symbols)?;
        if self.retain == 0 {
            return Err("retain must be at least 1".into());
        }
        if self.max_conns == 0 {
            return Err("max-conns must be at least 1".into());
        }
        if self.heartbeat.is_zero() {
            return Err("heartbeat must be greater than 0".into());
        }
        check_sndbuf(self.sndbuf)?;
        if let Some(b) = &self.open_burst {
            b.check()?;
            if self.rate * b.factor > MAX_RATE {
                return Err(format!(
                    "open-burst: rate {} × {} is over the {MAX_RATE} ticks/s limit",
                    self.rate, b.factor
                ));
            }
        }
        if let Some(r) = &self.replay {
            check_speed(r.speed)?;
            if self.open_burst.is_some() {
                return Err("open-burst does not apply to a replayed tape".into());
            }
        }
        if self.header_timeout.is_zero() {
            return Err("header-timeout must be greater than 0".into());
        }
        if !H2_MAX_STREAMS_RANGE.contains(&self.h2_max_streams) {
            return Err(format!(
                "h2-max-streams must be {} to {}, got {}",
                H2_MAX_STREAMS_RANGE.start(),
                H2_MAX_STREAMS_RANGE.end(),
                self.h2_max_streams
            ));
        }
        if let Some(url) = &self.nats {
            if self.replay.is_some() {
                return Err("feed: an edge of a NATS feed cannot also replay a tape".into());
            }
            check_nats_url(url)?;
        }
        // An edge does not replay the market: the feed's epoch may lie far back.
        if let (Some(t0), None) = (self.epoch_us, &self.nats) {
            let now = tickbench_wire::now_micros();
            let ahead = t0.saturating_sub(now);
            if ahead > MAX_EPOCH_AHEAD_US {
                return Err(format!(
                    "epoch-us {t0} is {} s in the future (at most {} s allowed)",
                    ahead / 1_000_000,
                    MAX_EPOCH_AHEAD_US / 1_000_000
                ));
            }
            // Replaying costs one market step per tick since the epoch; refuse work that would
            // take minutes rather than start silently late.
            let behind_s = now.saturating_sub(t0) as f64 / 1e6;
            let burst = self
                .open_burst
                .map_or(0.0, |b| b.extra_ticks(self.rate, behind_s));
            let ticks = self.rate * behind_s + burst;
            if ticks > MAX_REPLAY_TICKS as f64 {
                return Err(format!(
                    "epoch-us {t0} is {behind_s:.0} s ago: replaying ~{ticks:.0} ticks at rate {} is over the {MAX_REPLAY_TICKS} limit",
                    self.rate
                ));
            }
        }
        Ok(())
    }
}

/// `min(19,000, soft fd limit − margin)`: beyond the fd limit accept() would fail instead of
/// answering a clean 503.
pub fn default_max_conns() -> usize {
    match nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) => (soft.saturating_sub(FD_MARGIN).max(1) as usize).min(DEFAULT_MAX_CONNS),
        Err(_) => DEFAULT_MAX_CONNS,
    }
}

pub(crate) fn check_rate(r: f64) -> Result<f64, String> {
    if r.is_finite() && (0.0..=MAX_RATE).contains(&r) {
        Ok(r)
    } else {
        Err(format!("rate must be 0 to {MAX_RATE} ticks/s, got {r}"))
    }
}

pub(crate) fn check_speed(x: f64) -> Result<f64, String> {
    if x.is_finite() && x > 0.0 && x <= MAX_SPEED {
        Ok(x)
    } else {
        Err(format!(
            "replay-speed must be above 0 and at most {MAX_SPEED}, got {x}"
        ))
    }
}

pub(crate) fn check_symbols(n: usize) -> Result<usize, String> {
    if (1..=MAX_SYMBOLS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("symbols must be 1 to {MAX_SYMBOLS}, got {n}"))
    }
}

/// `nats://HOST:PORT` (also `tls://`), what `--feed` takes.
pub(crate) fn check_nats_url(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("nats://")
        .or_else(|| url.strip_prefix("tls://"))
        .ok_or_else(|| format!("feed must be a nats://HOST:PORT URL, got '{url}'"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(format!("feed must be a nats://HOST:PORT URL, got '{url}'"));
    }
    Ok(url.to_string())
}

pub(crate) fn check_sndbuf(n: usize) -> Result<usize, String> {
    if n == 0 || SNDBUF_RANGE.contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "sndbuf must be 0 (kernel autotuning) or {} to {} bytes, got {n}",
            SNDBUF_RANGE.start(),
            SNDBUF_RANGE.end()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_rejects_a_bad_sndbuf() {
        assert!(Config {
            sndbuf: 10,
            ..Config::default()
        }
        .validate()
        .is_err());
    }
}
