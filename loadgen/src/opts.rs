//! `tickbench run` options: the clap definition, its defaults, and the checks clap cannot express.
//!
//! Longer than the ~500 lines a file here aims at: one clap struct of every `run` flag, each
//! with the doc comment that is its `--help`, and the cross-flag checks beside them.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;
use serde::{Serialize, Serializer};
use tickbench_wire::{transport::Kind, HttpVersion, Link, Transport};

use crate::chaos::ChaosSpec;
use crate::error::Error;
use crate::share::fraction;

/// `tickbench run` options. Every field is a flag; the doc comments are the `--help` text.
///
/// The defaults make the whole default run take about two minutes: 8 transports × (3 s ramp +
/// 2 s warm-up + 10 s measured) with 2,000 clients each.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct RunOpts {
    /// Server to measure (e.g. http://127.0.0.1:8080); without it an embedded server is started
    /// as a child process and stopped at the end. A peer: `nchan+http://HOST:PORT` or
    /// `pushpin+http://HOST:PORT` (as `tickbench peer start` prints it), fed the embedded server's
    /// market by a publisher inside the run.
    #[arg(long, env = "TICKBENCH_TARGET")]
    pub target: Option<String>,
    /// Servers to measure side by side (tickbench,nchan,pushpin): each is started, runs the same
    /// phases on the same seeded market, and one report compares them.
    #[arg(long, value_delimiter = ',', conflicts_with = "target")]
    pub targets: Vec<crate::targets::TargetKind>,
    /// The peer's root pid, for its CPU and RSS (set by `--targets`). For tests and scripts.
    #[arg(long, hide = true)]
    pub peer_pid: Option<u32>,
    /// The tickbench server a peer's publisher follows (default: the embedded server, started
    /// with `--rate`, `--seed`, `--symbols`). For tests.
    #[arg(long, hide = true)]
    pub peer_source: Option<String>,
    /// Transports to measure, in order (comma list).
    #[arg(short, long, value_delimiter = ',', default_values_t = Transport::ALL)]
    pub transports: Vec<Transport>,
    /// Simulated clients per phase.
    #[arg(short, long, default_value_t = 2000, value_parser = parse_clients)]
    pub clients: u64,
    /// Measured window of each phase.
    #[arg(short, long, default_value = "10s", value_parser = parse_positive_duration, allow_hyphen_values = true)]
    #[serde(serialize_with = "ser_duration")]
    pub duration: Duration,
    /// Warm-up after the ramp (not recorded).
    #[arg(long, default_value = "2s", value_parser = parse_duration, allow_hyphen_values = true)]
    #[serde(serialize_with = "ser_duration")]
    pub warmup: Duration,
    /// Time over which a phase's clients are started (evenly spread).
    #[arg(long, default_value = "3s", value_parser = parse_duration, allow_hyphen_values = true)]
    #[serde(serialize_with = "ser_duration")]
    pub ramp: Duration,
    /// Aggregate tick rate of the embedded server (ticks/s).
    #[arg(short, long, default_value_t = 100.0, value_parser = parse_rate, allow_hyphen_values = true)]
    pub rate: f64,
    /// Seed of the embedded server's simulation and of the clients' watchlists.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Symbols each client watches (drawn by popularity), or `all`.
    #[arg(long, default_value = "10")]
    pub watch: Watch,
    /// Interval of the polling transports (poll, jsonp).
    #[arg(long, default_value = "1s", value_parser = parse_positive_duration, allow_hyphen_values = true)]
    #[serde(serialize_with = "ser_duration")]
    pub poll_interval: Duration,
    /// Application requests per second per client (piggyback).
    #[arg(long, default_value_t = 1.0, value_parser = parse_rate, allow_hyphen_values = true)]
    pub action_rate: f64,
    /// Hold time the long-poll clients ask for.
    #[arg(long, default_value = "30s", value_parser = parse_positive_duration, allow_hyphen_values = true)]
    #[serde(serialize_with = "ser_duration")]
    pub longpoll_timeout: Duration,
    /// Label of the run: the results folder is `<out>/<UTC timestamp>-<label>`.
    #[arg(short, long, env = "TICKBENCH_LABEL", default_value = "run", value_parser = parse_label)]
    pub label: String,
    /// Folder the results are written under (`<out>/latest` points at the newest run).
    #[arg(short, long, env = "TICKBENCH_OUT", default_value = "results")]
    pub out: PathBuf,
    /// Load-generator worker threads (each a single-threaded runtime owning a slice of clients).
    #[arg(long, env = "TICKBENCH_WORKERS", default_value_t = default_workers(), value_parser = parse_workers)]
    pub workers: usize,
    /// Print plain progress and the final table instead of the live dashboard.
    #[arg(long, env = "TICKBENCH_NO_TUI")]
    pub no_tui: bool,
    /// What the run prints on stdout at the end: the comparison table, or the `summary.json`
    /// it wrote (`json`; implies --no-tui, progress stays on stderr).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    #[serde(skip)]
    pub format: OutputFormat,
    /// Exit with code 3 when any phase was SATURATED (the load generator, not the server, was the
    /// bottleneck), so a CI job does not pass on figures that describe the instrument.
    #[arg(long)]
    #[serde(skip)]
    pub fail_on_saturated: bool,
    /// No progress on stderr (set by the binary's `-q`).
    #[arg(skip)]
    #[serde(skip)]
    pub quiet: bool,
    /// Number of symbols the embedded server simulates.
    #[arg(long, default_value_t = 500, value_parser = parse_symbols)]
    pub symbols: usize,
    /// A further flag for the embedded `tickbench serve`, passed verbatim; repeat for more, e.g.
    /// `--server-arg=--retain=5000 --server-arg=--max-behind=10s`. Ignored with `--target`.
    #[arg(long = "server-arg", value_name = "FLAG", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
    /// Gate validation only (hidden; docs/protocol.md, "Gate validation"): the embedded server
    /// delivers TRANSPORT's ticks FACTOR times later (`tickbench serve --debug-slow`). Recorded
    /// in summary.json's configuration, so a slowed run cannot pass for a real one.
    #[arg(long = "debug-slow", hide = true, value_name = "TRANSPORT=FACTOR",
          value_parser = parse_slowdown)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub debug_slow: Vec<String>,
    /// Binary to start the embedded server from (default: this executable). For tests.
    #[arg(long, hide = true)]
    pub server_bin: Option<PathBuf>,
    /// Run the fan-out floor in a process of its own even when its sockets fit in this one
    /// (hidden, for tests: a large `--clients` does it anyway; see `floor::process`).
    #[arg(long, hide = true)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub floor_process: bool,
    /// Fault injection through an in-process TCP proxy between the clients and the server, e.g.
    /// `reset=1%,stall=0.5%:2s,cut=0.5%,restart=30s`: rates are shares of live connections per
    /// second; `restart=` restarts the embedded server every period (same seed and epoch, same
    /// port: the stream continues). The proxy's CPU counts as the load generator's.
    #[arg(long)]
    pub chaos: Option<ChaosSpec>,
    /// Share of each phase's clients that read their stream `--slow-factor` times slower than the
    /// ticks arrive (e.g. 10%). Their latencies are reported apart (`slow_*` extras); the phase's
    /// latency columns are the other clients'. Streaming transports only.
    #[arg(long, default_value = "0%", value_parser = parse_share)]
    pub slow_clients: f64,
    /// How many times slower than its tick rate a slow client reads.
    #[arg(long, default_value_t = 10.0, value_parser = parse_factor)]
    pub slow_factor: f64,
    /// Skip the fan-out floor: the extra phase, after the transports, of the first push
    /// transport's clients against a minimal threaded writer, which every push transport's
    /// latency and CPU per delivery is shown as a multiple of.
    #[arg(long)]
    #[serde(default)]
    pub no_fanout_floor: bool,
    /// Skip the bare HTTP loop: the extra window, right after the `poll` phase, of the same
    /// connections and schedule doing nothing but send a request and read its body, whose
    /// requests per load-generator CPU-second the phase's are compared with.
    #[arg(long)]
    #[serde(default)]
    pub no_bare_http: bool,
    /// Pin the embedded server and the load generator to separate cores (every thread, via
    /// `sched_setaffinity`): the server gets the first half of the allowed cores, the load
    /// generator the rest. Lowers run-to-run spread on a quiet machine; needs at least 2 cores
    /// and the embedded server.
    #[arg(long)]
    #[serde(default)]
    pub pin: bool,
    /// After the transport phases, open the browser page in headless Chromium once per technique
    /// against the same server (`tickbench browser`'s measurement); its table joins report.md.
    #[arg(long)]
    pub browser: bool,
    /// What `--browser` runs, supplied by the binary: the load generator does not depend on the
    /// browser crate (that crate depends on this one for the embedded server and the results).
    #[arg(skip)]
    #[serde(skip)]
    pub browser_phase: Option<BrowserPhase>,
    /// Speak HTTP/2 for every transport: prior knowledge (h2c) in plaintext, ALPN `h2` over TLS.
    #[arg(long)]
    pub http2: bool,
    /// Simulated clients sharing one HTTP/2 connection, as browser tabs of one origin do (each
    /// tab its own streams and requests); needs --http2.
    #[arg(long, default_value_t = 1, value_parser = parse_tabs)]
    pub tabs_per_conn: u32,
    /// HTTPS to the embedded server: it is started with `--tls` and the fingerprint of the
    /// certificate it prints is pinned. For an external server give an https:// --target.
    #[arg(long)]
    pub tls: bool,
    /// With an https:// --target: trust the certificates in this PEM file instead of the
    /// bundled web roots.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca: Option<PathBuf>,
    /// With an https:// --target: accept any certificate (the handshake is still made, and
    /// costs what it costs; only the check goes).
    #[arg(long)]
    pub insecure: bool,
    /// Other edges of --target's feed (`tickbench serve --feed nats://...`), comma-separated:
    /// a client whose edge is gone (refused, reset, or its stream ended without `bye`, twice in
    /// a row) moves to one of them, spread by client, and resumes by its cursor; the summary's
    /// `takeover` says how many moved and how long it took.
    #[arg(long, value_delimiter = ',', value_name = "URL", requires = "target")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover: Vec<String>,
    /// Source addresses the clients connect from, e.g. `127.0.0.2-127.0.0.9`: client i uses
    /// address i mod N, so each (source, edge) pair needs fewer ephemeral ports. Default: one
    /// address per 20,000 clients from 127.0.0.1 on loopback runs that large, else the kernel's.
    #[arg(long, value_name = "FIRST-LAST")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_addrs: Option<crate::clients::SourceAddrs>,
}

/// The browser phase's signature: given the server's base URL (`http://127.0.0.1:PORT`) and the
/// results folder (for screenshots), measure and return the `browser` section of the summary,
/// or one line saying why not.
pub type BrowserPhaseFn =
    dyn Fn(&str, &std::path::Path) -> Result<tickbench_wire::BrowserSection, String> + Send + Sync;

/// `--browser`'s measurement, plugged in by the `tickbench` binary.
#[derive(Clone)]
pub struct BrowserPhase(pub std::sync::Arc<BrowserPhaseFn>);

impl fmt::Debug for BrowserPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BrowserPhase(..)")
    }
}

/// Lets [`RunOpts::default`] come from clap itself, so the two can never disagree.
#[derive(Debug, Parser)]
struct DefaultsParser {
    #[command(flatten)]
    opts: RunOpts,
}

impl Default for RunOpts {
    fn default() -> Self {
        DefaultsParser::parse_from(["run"]).opts
    }
}

/// `Err(Error::Options(message))` unless `ok`.
fn ensure(ok: bool, message: &str) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::Options(message.to_string()))
    }
}

impl RunOpts {
    /// The checks clap cannot make (library callers build `RunOpts` by hand), as one clear line.
    pub fn validate(&self) -> Result<(), Error> {
        ensure(self.clients >= 1, "--clients must be at least 1")?;
        ensure(!self.duration.is_zero(), "--duration must be positive")?;
        ensure(!self.transports.is_empty(), "--transports is empty")?;
        ensure(self.workers >= 1, "--workers must be at least 1")?;
        ensure(
            self.debug_slow.is_empty() || self.target.is_none(),
            "--debug-slow slows the embedded server; drop --target or --debug-slow",
        )?;
        ensure(
            !self.pin || self.target.is_none(),
            "--pin needs the embedded server (it pins that process); drop --target or --pin",
        )?;
        ensure(
            self.rate.is_finite() && self.rate > 0.0,
            "--rate must be a positive number",
        )?;
        ensure(
            self.action_rate.is_finite() && self.action_rate > 0.0,
            "--action-rate must be a positive number",
        )?;
        ensure(
            !self.poll_interval.is_zero(),
            "--poll-interval must be positive",
        )?;
        ensure(
            self.longpoll_timeout >= Duration::from_secs(1),
            "--longpoll-timeout must be at least 1s",
        )?;
        if let Watch::Count(n) = self.watch {
            ensure(n >= 1, "--watch must be at least 1 or 'all'")?;
        }
        parse_label(&self.label).map_err(|e| Error::Options(format!("--label: {e}")))?;
        ensure(
            (0.0..=1.0).contains(&self.slow_clients),
            "--slow-clients must be a share from 0% to 100%",
        )?;
        ensure(
            self.slow_factor.is_finite() && self.slow_factor >= 1.0,
            "--slow-factor must be a number ≥ 1",
        )?;
        ensure(
            !self.browser || self.browser_phase.is_some(),
            "--browser needs the tickbench binary's browser phase (RunOpts::browser_phase is unset)",
        )?;
        ensure(
            self.targets.is_empty() || self.target.is_none(),
            "--targets starts its own servers; drop --target",
        )?;
        ensure(
            self.tabs_per_conn >= 1,
            "--tabs-per-conn must be at least 1",
        )?;
        ensure(
            self.tabs_per_conn == 1 || self.http2,
            "--tabs-per-conn shares one connection among several clients, which only HTTP/2 \
             multiplexes (HTTP/1.1 carries one request at a time): add --http2",
        )?;
        let https_target = self
            .target
            .as_deref()
            .is_some_and(|t| t.starts_with("https://"));
        ensure(
            !(self.tls && self.target.is_some()),
            "--tls starts the embedded server with TLS; for --target give its https:// URL \
             (with --ca FILE or --insecure if its certificate is not publicly trusted)",
        )?;
        ensure(
            https_target || (self.ca.is_none() && !self.insecure),
            "--ca and --insecure apply to an https:// --target (with --tls the embedded \
             server's certificate is pinned by its fingerprint)",
        )?;
        ensure(
            self.slow_clients == 0.0 || !(self.http2 || self.tls || https_target),
            "--slow-clients read over their own small-window HTTP/1.1 connections in \
             plaintext and cannot be combined with --http2 or TLS",
        )?;
        for edge in &self.failover {
            ensure(
                edge.parse::<reqwest::Url>()
                    .is_ok_and(|u| u.scheme().starts_with("http")),
                "--failover takes http:// or https:// URLs of other edges, comma-separated",
            )?;
        }
        ensure(
            self.failover.is_empty() || self.chaos.is_none(),
            "--failover moves clients between edges directly; it cannot go through --chaos's proxy",
        )?;
        if let Some(c) = &self.chaos {
            ensure(
                c.restart.is_none() || self.target.is_none(),
                "--chaos restart= needs the embedded server (it restarts the process); drop --target or the restart"
            )?;
            ensure(
                c.restart.is_none() || !self.tls,
                "--chaos restart= with --tls would restart the server with a new self-signed \
                 certificate that the clients have not pinned; drop one of them",
            )?;
        }
        Ok(())
    }

    /// The protocol settings a phase of `transport` records: the run's, except that a WebSocket
    /// is an HTTP/1.1 upgrade of a connection of its own whatever `--http2` says.
    pub fn link_for(&self, transport: Transport) -> Link {
        let link = self.link();
        match transport.kind() {
            Kind::Duplex => Link {
                protocol: HttpVersion::H1,
                tabs_per_conn: 1,
                ..link
            },
            Kind::Polled | Kind::Piggyback | Kind::Held | Kind::Stream => link,
        }
    }

    /// The protocol settings of this run's HTTP transports (see [`Link`]).
    pub fn link(&self) -> Link {
        Link {
            protocol: if self.http2 {
                HttpVersion::H2
            } else {
                HttpVersion::H1
            },
            tls: self.tls
                || self
                    .target
                    .as_deref()
                    .is_some_and(|t| t.starts_with("https://")),
            tabs_per_conn: self.tabs_per_conn,
        }
    }

    /// Wall time of all phases (without the floor measurement and start-up).
    pub fn total_duration(&self) -> Duration {
        (self.ramp + self.warmup + self.duration) * self.transports.len() as u32
    }
}

/// What `tickbench run` prints on stdout when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// The comparison table, warnings and the results folder, for people.
    #[default]
    Table,
    /// The `summary.json` the run wrote, for programs (`| jq`).
    Json,
}

/// How many symbols each client watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// This many, drawn by popularity weight.
    Count(usize),
    /// Every symbol the server has (no `symbols=` parameter).
    All,
}

impl FromStr for Watch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("all") {
            return Ok(Watch::All);
        }
        match s.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Watch::Count(n)),
            _ => Err(format!("expected a number ≥ 1 or 'all', got '{s}'")),
        }
    }
}

impl fmt::Display for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Watch::Count(n) => write!(f, "{n}"),
            Watch::All => f.write_str("all"),
        }
    }
}

impl Serialize for Watch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Watch::Count(n) => s.serialize_u64(*n as u64),
            Watch::All => s.serialize_str("all"),
        }
    }
}

/// Durations appear in `summary.json` the way they are typed on the command line (`10s`).
fn ser_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&humantime::format_duration(*d).to_string())
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A `--debug-slow` value, checked by the server's own parser and kept as given.
fn parse_slowdown(s: &str) -> Result<String, String> {
    s.parse::<tickbench_server::slowdown::Slowdown>()
        .map(|sd| sd.to_string())
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|_| format!("'{s}' is not a duration ≥ 0 such as 10s, 500ms or 2m"))
}

fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("must be longer than 0".into()),
        Err(_) => Err(format!(
            "'{s}' is not a positive duration such as 10s, 500ms or 2m"
        )),
    }
}

fn parse_clients(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a number of clients ≥ 1")),
    }
}

fn parse_workers(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{s}' is not a number of worker threads from 1 to 1024"
        )),
    }
}

fn parse_symbols(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a number of symbols ≥ 1")),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("'{s}' is not a positive rate")),
    }
}

/// `10%` (or a fraction such as `0.1`), 0-100 %.
fn parse_share(s: &str) -> Result<f64, String> {
    fraction(s).ok_or_else(|| format!("'{s}' is not a share of clients such as 10% (0-100%)"))
}

fn parse_tabs(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(format!("'{s}' is not a number of tabs from 1 to 10000")),
    }
}

fn parse_factor(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 1.0 => Ok(f),
        _ => Err(format!("'{s}' is not a slowdown factor ≥ 1")),
    }
}

/// Labels become part of a folder name: keep them to a safe alphabet.
fn parse_label(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !s.starts_with('.');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a label: use 1-64 letters, digits, '-', '_' or '.'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_issue() {
        let o = RunOpts::default();
        assert_eq!(o.transports, Transport::ALL.to_vec());
        assert_eq!(o.clients, 2000);
        assert_eq!(o.duration, Duration::from_secs(10));
        assert_eq!(o.watch, Watch::Count(10));
        assert_eq!(o.poll_interval, Duration::from_secs(1));
        assert_eq!(o.out, PathBuf::from("results"));
        assert!(o.workers >= 1);
        o.validate().unwrap();
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["duration"], "10s");
        assert_eq!(json["watch"], 10);
        assert_eq!(json["transports"][0], "poll");
    }

    #[test]
    fn bad_values_are_rejected() {
        let parse = |args: &[&str]| {
            DefaultsParser::try_parse_from(std::iter::once("run").chain(args.iter().copied()))
        };
        assert!(parse(&["--clients", "0"]).is_err());
        assert!(parse(&["--duration", "-1"]).is_err());
        assert!(parse(&["--duration", "0s"]).is_err());
        assert!(parse(&["--transports", "poll,nope"]).is_err());
        assert!(parse(&["--watch", "0"]).is_err());
        assert!(parse(&["--label", "../x"]).is_err());
        assert!(parse(&["--chaos", "reset=x"]).is_err());
        assert!(parse(&["--slow-clients", "150%"]).is_err());
        assert!(parse(&["--slow-factor", "0.5"]).is_err());
        assert!(parse(&["--targets", "tickbench,redis"]).is_err());
        assert!(parse(&["--targets", "nchan", "--target", "http://h:1"]).is_err());
        let t = parse(&["--targets", "tickbench,nchan,pushpin"])
            .unwrap()
            .opts;
        assert_eq!(t.targets, crate::targets::TargetKind::ALL.to_vec());
        let o = parse(&["--chaos", "reset=1%", "--slow-clients", "10%"])
            .unwrap()
            .opts;
        assert_eq!(o.chaos.unwrap().reset, 0.01);
        assert_eq!(o.slow_clients, 0.1);
        assert_eq!(o.slow_factor, 10.0);
        let mut bad = o.clone();
        bad.target = Some("http://127.0.0.1:1".into());
        bad.chaos = Some("restart=5s".parse().unwrap());
        assert!(bad.validate().unwrap_err().to_string().contains("embedded"));
        let o = parse(&["--transports", "sse,poll", "--watch", "all"])
            .unwrap()
            .opts;
        assert_eq!(o.transports, vec![Transport::Sse, Transport::Poll]);
        assert_eq!(o.watch, Watch::All);
    }

    #[test]
    fn protocol_flags_are_checked_together() {
        let parse = |args: &[&str]| {
            DefaultsParser::try_parse_from(std::iter::once("run").chain(args.iter().copied()))
                .map(|p| p.opts)
        };
        let err = |args: &[&str]| parse(args).unwrap().validate().unwrap_err().to_string();
        assert!(err(&["--tabs-per-conn", "10"]).contains("--http2"));
        assert!(parse(&["--tabs-per-conn", "0"]).is_err());
        assert!(err(&["--tls", "--target", "http://127.0.0.1:1"]).contains("https://"));
        assert!(err(&["--insecure"]).contains("https:// --target"));
        assert!(err(&["--http2", "--slow-clients", "10%"]).contains("--slow-clients"));
        assert!(parse(&["--ca", "x.pem", "--insecure"]).is_err());
        let o = parse(&["--http2", "--tabs-per-conn", "100", "--tls"]).unwrap();
        o.validate().unwrap();
        assert_eq!(o.link().to_string(), "h2+tls ×100 tabs/conn");
        let o = parse(&["--target", "https://127.0.0.1:1", "--insecure"]).unwrap();
        o.validate().unwrap();
        assert!(o.link().tls);
        assert_eq!(RunOpts::default().link(), Link::default());
    }

    #[test]
    fn debug_slow_is_checked_and_needs_the_embedded_server() {
        let parse = |args: &[&str]| {
            DefaultsParser::try_parse_from(std::iter::once("run").chain(args.iter().copied()))
                .map(|p| p.opts)
        };
        let o = parse(&["--debug-slow", "sse=2"]).unwrap();
        assert_eq!(o.debug_slow, vec!["sse=2".to_string()]);
        o.validate().unwrap();
        let cfg = serde_json::to_value(&o).unwrap();
        assert_eq!(cfg["debug_slow"], serde_json::json!(["sse=2"]));
        assert!(serde_json::to_value(RunOpts::default()).unwrap()["debug_slow"].is_null());
        assert!(parse(&["--debug-slow", "poll=2"]).is_err());
        assert!(parse(&["--debug-slow", "sse"]).is_err());
        let err = parse(&["--debug-slow", "sse=2", "--target", "http://127.0.0.1:1"])
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("--debug-slow"), "{err}");
    }
}
