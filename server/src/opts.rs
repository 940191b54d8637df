//! [`ServeOpts`]: the `tickbench serve` flags, parsed and range-checked by clap, and the
//! [`Config`] they give.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{
    check_nats_url, check_rate, check_sndbuf, check_speed, check_symbols, default_max_conns,
    Config, TlsSource, DEFAULT_H2_MAX_STREAMS, H2_MAX_STREAMS_RANGE,
};
use crate::error::Error;
use crate::feed::Replay;
use crate::market::OpenBurst;

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
    /// Opening burst: the first seconds at many times the rate, as markets trade at the open.
    /// FACTORxDURATION, e.g. 20x10s; the flag alone means 10x5s. Deterministic for a seed.
    #[arg(long, value_name = "FACTORxDURATION", num_args = 0..=1,
          default_missing_value = "10x5s", value_parser = OpenBurst::parse)]
    pub open_burst: Option<OpenBurst>,
    /// Replay a recorded quote tape (CSV: ts,sym,bid,ask,last,size) instead of simulating; its
    /// symbols become the universe. Bad lines are refused with their line number.
    #[arg(long, value_name = "FILE.csv",
          conflicts_with_all = ["rate", "seed", "symbols", "open_burst"])]
    pub replay: Option<PathBuf>,
    /// Speed of --replay: 1 plays the tape as recorded, 10 ten times faster.
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = parse_speed,
          requires = "replay")]
    pub replay_speed: f64,
    /// Serve HTTPS (ALPN h2 and http/1.1) instead of plain HTTP. Without --tls-cert/--tls-key a
    /// self-signed certificate for localhost/127.0.0.1 is made at start; its SHA-256
    /// fingerprint is the second stdout line (`tls sha256 AB:CD:...`), for clients to pin.
    #[arg(long)]
    pub tls: bool,
    /// Certificate chain (PEM, leaf first) to serve with --tls.
    #[arg(long, value_name = "FILE", requires = "tls", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Write the served certificate (PEM) to FILE before listening, e.g. for `curl --cacert`.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub tls_cert_out: Option<PathBuf>,
    /// Streams one HTTP/2 connection may have open at once.
    #[arg(long, default_value_t = DEFAULT_H2_MAX_STREAMS, value_parser = parse_h2_streams)]
    pub h2_max_streams: u32,
    /// Be an edge of a NATS JetStream feed (`tickbench feed --nats URL`): serve its ticks, not
    /// a market of its own. Seed, symbols, rate, epoch and retention are the feed's.
    #[arg(long, value_name = "nats://HOST:PORT", value_parser = check_nats_url,
          conflicts_with_all = ["rate", "seed", "symbols", "open_burst", "replay", "epoch_us", "retain"])]
    pub feed: Option<String>,
    /// Gate validation only (hidden; docs/protocol.md, "Gate validation"): deliver TRANSPORT's
    /// ticks FACTOR times later than the server would (an HTTP stream: stream, sse, multipart,
    /// iframe); repeat for more.
    #[arg(long = "debug-slow", hide = true, value_name = "TRANSPORT=FACTOR",
          value_parser = parse_slowdown)]
    pub debug_slow: Vec<crate::slowdown::Slowdown>,
}

fn parse_slowdown(s: &str) -> Result<crate::slowdown::Slowdown, String> {
    s.parse()
}

impl ServeOpts {
    /// The [`Config`] these flags ask for (the connection cap defaulting to what the fd limit
    /// allows).
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
            open_burst: self.open_burst,
            tls: self.tls.then(|| match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => TlsSource::Files {
                    cert: cert.clone(),
                    key: key.clone(),
                },
                _ => TlsSource::SelfSigned,
            }),
            h2_max_streams: self.h2_max_streams,
            nats: self.feed.clone(),
            debug_slow: self.debug_slow.clone(),
            ..Config::default()
        }
    }

    /// [`config`](Self::config) with the `--replay` tape loaded and checked: the one step of
    /// building the config that reads a file, so the one that can fail.
    pub fn load_config(&self) -> Result<Config, Error> {
        let config = self.config();
        match &self.replay {
            Some(path) => Ok(config.with_replay(Replay::load(path, self.replay_speed)?)),
            None => Ok(config),
        }
    }
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let x = s
        .trim()
        .trim_end_matches(['x', 'X'])
        .parse::<f64>()
        .map_err(|_| format!("'{s}' is not a speed (e.g. 1, 10, 0.5)"))?;
    check_speed(x)
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

fn parse_h2_streams(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if H2_MAX_STREAMS_RANGE.contains(&n) => Ok(n),
        _ => Err(format!(
            "'{s}' is not a stream count from {} to {}",
            H2_MAX_STREAMS_RANGE.start(),
            H2_MAX_STREAMS_RANGE.end()
        )),
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

/// Like [`parse_duration`], but `0` is allowed (it disables the setting).
fn parse_duration_or_zero(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s).map_err(|e| format!("'{s}': {e} (e.g. 30s, 500ms, or 0 for off)"))
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
    }
}
