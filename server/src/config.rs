//! Server settings: [`Config`] for the library API, [`ServeOpts`] for `tickbench serve`.

use std::net::SocketAddr;
use std::time::Duration;

/// Highest accepted `--rate`, ticks/s.
pub const MAX_RATE: f64 = 1_000_000.0;
/// Highest accepted `--symbols`.
pub const MAX_SYMBOLS: usize = 10_000;
/// Upper bound of the default connection cap.
pub const DEFAULT_MAX_CONNS: usize = 19_000;
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
        }
    }
}

impl Config {
    /// Rejects values the server cannot honour, with a message naming the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_rate(self.rate).map_err(anyhow::Error::msg)?;
        check_symbols(self.symbols).map_err(anyhow::Error::msg)?;
        if self.retain == 0 {
            anyhow::bail!("retain must be at least 1");
        }
        if self.max_conns == 0 {
            anyhow::bail!("max-conns must be at least 1");
        }
        if self.heartbeat.is_zero() {
            anyhow::bail!("heartbeat must be greater than 0");
        }
        if self.header_timeout.is_zero() {
            anyhow::bail!("header-timeout must be greater than 0");
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

fn check_rate(r: f64) -> Result<f64, String> {
    if r.is_finite() && (0.0..=MAX_RATE).contains(&r) {
        Ok(r)
    } else {
        Err(format!("rate must be 0 to {MAX_RATE} ticks/s, got {r}"))
    }
}

fn check_symbols(n: usize) -> Result<usize, String> {
    if (1..=MAX_SYMBOLS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("symbols must be 1 to {MAX_SYMBOLS}, got {n}"))
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    check_rate(
        s.parse::<f64>()
            .map_err(|_| format!("'{s}' is not a number"))?,
    )
}

fn parse_symbols(s: &str) -> Result<usize, String> {
    check_symbols(
        s.parse::<usize>()
            .map_err(|_| format!("'{s}' is not a count"))?,
    )
}

fn parse_positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("'{s}' is not a positive integer")),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("must be greater than 0".into()),
        Err(e) => Err(format!("'{s}': {e} (e.g. 15s, 500ms)")),
    }
}

/// `tickbench serve`: the quote server.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeOpts {
    /// Address to listen on (port 0 picks a free port; the first stdout line says which).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Aggregate tick rate, ticks/s (Poisson arrivals); 0 for none.
    #[arg(long, default_value_t = 100.0, value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: f64,
    /// Simulation seed: the same seed and rate give the same tick sequence.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of symbols (real tickers first, then generated ones).
    #[arg(long, default_value_t = 500, value_parser = parse_symbols)]
    pub symbols: usize,
    /// Ticks the journal retains for cursors to resume from.
    #[arg(long, default_value_t = 1_000_000, value_parser = parse_positive)]
    pub retain: usize,
    /// Connection cap (default: 19,000 or the fd limit minus a margin, whichever is lower).
    #[arg(long, value_parser = parse_positive)]
    pub max_conns: Option<usize>,
    /// Heartbeat interval of idle streams.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub heartbeat: Duration,
    /// Time a client has to send complete request headers (also the keep-alive idle timeout).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
}

impl ServeOpts {
    pub fn config(&self) -> Config {
        Config {
            rate: self.rate,
            seed: self.seed,
            symbols: self.symbols,
            retain: self.retain,
            max_conns: self.max_conns.unwrap_or_else(default_max_conns),
            heartbeat: self.heartbeat,
            header_timeout: self.header_timeout,
            ..Config::default()
        }
    }
}
