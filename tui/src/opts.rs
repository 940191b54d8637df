//! The command-line options of the TUI's subcommands (`tickbench view`, `tickbench show`).

use std::path::PathBuf;
use std::time::Duration;

use tickbench_wire::Transport;

/// `tickbench view` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewOpts {
    /// Server URL (e.g. http://127.0.0.1:8080); without it an embedded server is started.
    pub url: Option<String>,
    /// Transport to receive ticks with; the keys shown on the top line switch live.
    #[arg(long, short, default_value = "sse")]
    pub transport: Transport,
    /// Watchlist, comma-separated (default: the 15 most active symbols).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Interval of the polling transports (poll, jsonp).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Application requests per second of the piggyback transport.
    #[arg(long, default_value_t = 1.0)]
    pub action_rate: f64,
    /// Hold time asked of the server by the long-poll transport.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub longpoll_timeout: Duration,
    /// Also write log lines to this file (appending). While the screen is up they never go to
    /// the terminal: the newest shows on the bottom line.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// `tickbench show` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowOpts {
    /// Results folders or summary.json files (default `results/latest`); two show side by side
    /// with deltas (B against A).
    #[arg(num_args = 0..=2)]
    pub runs: Vec<PathBuf>,
    /// Print the tables as text even on a terminal (automatic when stdout is not one).
    #[arg(long)]
    pub plain: bool,
    /// Print the run(s) for a program instead: `json` (the summary; an array of two for two
    /// runs) or `csv` (one row per run and transport, figures unrounded, latencies in µs);
    /// `text` is `--plain`.
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<ShowFormat>,
}

/// `tickbench show --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    /// The tables as text (`--plain`).
    Text,
    /// `summary.json` as stored (two runs: an array).
    Json,
    /// One row per run and transport.
    Csv,
}
