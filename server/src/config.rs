//! Server settings: [`Config`] for the library API, [`ServeOpts`] for `tickbench serve`.

use std::net::SocketAddr;
use std::time::Duration;

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
        check_sndbuf(self.sndbuf).map_err(anyhow::Error::msg)?;
        if self.header_timeout.is_zero() {
            anyhow::bail!("header-timeout must be greater than 0");
        }
        if let Some(t0) = self.epoch_us {
            let now = tickbench_wire::now_micros();
            let ahead = t0.saturating_sub(now);
            if ahead > MAX_EPOCH_AHEAD_US {
                anyhow::bail!(
                    "epoch-us {t0} is {} s in the future (at most {} s allowed)",
                    ahead / 1_000_000,
                    MAX_EPOCH_AHEAD_US / 1_000_000
                );
            }
            // Replaying costs one market step per tick since the epoch; refuse work that would
            // take minutes rather than start silently late.
            let behind_s = now.saturating_sub(t0) as f64 / 1e6;
            if self.rate * behind_s > MAX_REPLAY_TICKS as f64 {
                anyhow::bail!(
                    "epoch-us {t0} is {behind_s:.0} s ago: replaying ~{:.0} ticks at rate {} is over the {MAX_REPLAY_TICKS} limit",
                    self.rate * behind_s,
                    self.rate
                );
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

fn check_sndbuf(n: usize) -> Result<usize, String> {
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

/// A byte count: `65536`, `64k`/`64KiB`, `1m`/`1MiB`.
fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1024,
        "m" | "mib" | "mb" => 1024 * 1024,
        _ => {
            return Err(format!(
                "'{s}' is not a byte count (e.g. 65536, 64KiB, 1MiB)"
            ))
        }
    };
    let n: usize = num
        .parse()
        .map_err(|_| format!("'{s}' is not a byte count (e.g. 65536, 64KiB, 1MiB)"))?;
    check_sndbuf(n.saturating_mul(mult))
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

/// Like [`parse_duration`], but `0` is allowed (it disables the setting).
fn parse_duration_or_zero(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s).map_err(|e| format!("'{s}': {e} (e.g. 30s, 500ms, or 0 for off)"))
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
    /// Time origin of the tick schedule, µs since the Unix epoch (default: now). A server
    /// restarted with the same --epoch-us, --seed, --rate and --symbols replays the market up
    /// to now and continues the same sequence (same seq, sseq, prices and ts).
    #[arg(long, value_name = "T0")]
    pub epoch_us: Option<u64>,
    /// Reset a stream's connection when it has not caught up with the journal head for this
    /// long (a slow reader; it resumes by cursor and gets a gap notice if it fell out); 0 = never.
    #[arg(long, default_value = "30s", value_parser = parse_duration_or_zero)]
    pub max_behind: Duration,
    /// Kernel send buffer per connection (SO_SNDBUF), e.g. 64KiB; 0 = kernel autotuning (up to
    /// net.ipv4.tcp_wmem's maximum, megabytes, per slow reader).
    #[arg(long, default_value = "64KiB", value_parser = parse_bytes)]
    pub sndbuf: usize,
    /// Shut down gracefully when stdin reaches end of file, so a parent that dies (even by
    /// SIGKILL) never leaves an orphan server: start it with stdin a pipe the parent holds.
    #[arg(long)]
    pub exit_on_stdin_close: bool,
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
            epoch_us: self.epoch_us,
            stream_max_behind: self.max_behind,
            sndbuf: self.sndbuf,
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_behind_accepts_zero_and_durations() {
        assert_eq!(parse_duration_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration_or_zero("500ms"),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(parse_duration_or_zero("30s"), Ok(Duration::from_secs(30)));
        assert!(parse_duration_or_zero("soon").is_err());
        assert!(parse_duration_or_zero("-1s").is_err());
    }

    #[test]
    fn sndbuf_takes_units_and_rejects_nonsense() {
        assert_eq!(parse_bytes("0"), Ok(0));
        assert_eq!(parse_bytes("65536"), Ok(65536));
        assert_eq!(parse_bytes("64KiB"), Ok(65536));
        assert_eq!(parse_bytes("64k"), Ok(65536));
        assert_eq!(parse_bytes("1MiB"), Ok(1 << 20));
        assert!(parse_bytes("100").is_err(), "below the 4 KiB minimum");
        assert!(parse_bytes("1GiB").is_err());
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("-5").is_err());
        assert!(Config {
            sndbuf: 10,
            ..Config::default()
        }
        .validate()
        .is_err());
    }
}
