//! `tickbench browser` options.

use std::path::PathBuf;
use std::time::Duration;

use tickbench_wire::Technique;

use crate::error::Error;

/// `tickbench browser [URL]`: open the page in headless Chromium once per technique, read
/// `window.tickbench.stats()`, and write results like `run` does (summary.json with a `browser`
/// section, report.md, a PNG per technique).
#[derive(Debug, Clone, clap::Args)]
pub struct BrowserOpts {
    /// Server whose page to open (e.g. http://127.0.0.1:8080); without it an embedded server is
    /// started as a child process and stopped at the end.
    pub url: Option<String>,
    /// Techniques to open, in order (comma list). Default: every technique the server on this
    /// build serves.
    #[arg(long, value_delimiter = ',', default_values_t = available())]
    pub transports: Vec<Technique>,
    /// Measured window of each technique's page.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Time each page runs before its counters are zeroed (not measured).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// How long the compare view (every technique in one page) stays open; 0s skips it.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub compare: Duration,
    /// Symbols each page watches (the most popular).
    #[arg(long, default_value_t = 20)]
    pub watch: usize,
    /// Aggregate tick rate of the embedded server (ticks/s).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Symbols the embedded server simulates.
    #[arg(long, default_value_t = 500)]
    pub symbols: usize,
    /// Seed of the embedded server.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Interval of the polling techniques (poll, jsonp).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Piggyback's simulated user actions per second.
    #[arg(long, default_value_t = 1)]
    pub action_rate: u32,
    /// HTTPS: the embedded server runs `serve --tls` (HTTP/2 by ALPN) and Chromium accepts its
    /// self-signed certificate; with a URL, give an https:// one.
    #[arg(long)]
    pub tls: bool,
    /// Label of the run: the results folder is `<out>/<UTC timestamp>-<label>`.
    #[arg(long, default_value = "browser")]
    pub label: String,
    /// Folder the results are written under.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Binary to start the embedded server from (default: this executable). For tests.
    #[arg(long, hide = true)]
    pub server_bin: Option<PathBuf>,
}

/// The techniques whose server side this build has (`ws` waits for its transport).
pub fn available() -> Vec<Technique> {
    Technique::ALL
        .into_iter()
        .filter(|t| t.transport().is_some())
        .collect()
}

impl BrowserOpts {
    /// The checks clap cannot make, as one clear line.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: &str| Err(Error::Options(m.to_string()));
        if self.transports.is_empty() {
            return bad("--transports is empty");
        }
        if self.duration.is_zero() {
            return bad("--duration must be positive");
        }
        if !(1..=1000).contains(&self.watch) {
            return bad("--watch must be from 1 to 1000");
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return bad("--rate must be a positive number");
        }
        if self.poll_interval < Duration::from_millis(50) {
            return bad("--poll-interval must be at least 50ms");
        }
        if self.action_rate > 100 {
            return bad("--action-rate must be at most 100");
        }
        if let Some(u) = &self.url {
            let scheme_ok = if self.tls {
                u.starts_with("https://")
            } else {
                u.starts_with("http://") || u.starts_with("https://")
            };
            if !scheme_ok {
                return bad("URL must start with http:// (or https:// with --tls)");
            }
        }
        Ok(())
    }
}
