//! tickbench terminal UI: the live run dashboard (`tickbench run`), a terminal stock ticker on any
//! transport (`tickbench view`) and the saved-results viewer (`tickbench show`).
//!
//! Every screen is split the same way so it can be tested without a terminal: a plain state
//! struct, a `render(&State, &mut Frame)` function that only reads it, and a
//! `handle_key(&mut State, KeyEvent) -> Action` that only changes it. The async driver around them
//! (terminal, network, the run's progress channel) is thin and lives in the same file.
//!
//! # Layout
//! - [`dashboard`]: live run dashboard: header, comparison table, latency histogram, p50/p99 time
//!   chart and error panel, fed by the run's bounded `Progress` channel.
//! - [`ticker`]: the stock ticker: snapshot + transport client, flashing prices, watchlist,
//!   connection state and latency footer.
//! - [`results_view`]: saved `summary.json` / `.hgrm` viewer, one run or two with deltas, and the
//!   plain-text report for non-terminals.
//! - [`widgets`]: shared widgets (comparison table, log-bucket latency histogram,
//!   percentile-spectrum chart) and number formatting.
//! - [`term`]: terminal init/restore guard and the `NO_COLOR`-aware theme.
//! - [`app`]: event-loop helpers (crossterm `EventStream`, frame rate).
//! - [`embedded`]: starts `tickbench serve` as a child process when no URL is given.

pub mod app;
pub mod dashboard;
pub mod embedded;
pub mod results_view;
pub mod term;
pub mod ticker;
pub mod widgets;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use tickbench_wire::Transport;

/// What a key asks the driver to do after `handle_key` updated the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond the state change; redraw.
    None,
    /// Leave the screen (for the dashboard: stop the run cleanly first).
    Quit,
    /// The ticker's transport or watchlist changed: restart its client from a fresh snapshot.
    Restart,
}

/// `tickbench view` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewOpts {
    /// Server URL (e.g. http://127.0.0.1:8080); without it an embedded server is started.
    pub url: Option<String>,
    /// Transport to receive ticks with; keys 1–8 switch live.
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
}

/// Terminal stock ticker.
pub fn view(opts: ViewOpts) -> anyhow::Result<()> {
    ticker::run(opts)
}

/// Saved-results viewer: interactive on a terminal, text otherwise.
pub fn show(opts: ShowOpts) -> anyhow::Result<()> {
    let paths = if opts.runs.is_empty() {
        vec![PathBuf::from("results/latest")]
    } else {
        opts.runs
    };
    if paths.len() > 2 {
        anyhow::bail!("show takes at most two runs (got {})", paths.len());
    }
    let runs = paths
        .iter()
        .map(|p| results_view::LoadedRun::load(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if opts.plain || !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(results_view::text_report(&runs).as_bytes())?;
        return Ok(());
    }
    let mut state = results_view::ResultsState::new(runs, term::Theme::from_env());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut guard = term::TerminalGuard::new()?;
    rt.block_on(app::static_loop(
        &mut guard.terminal,
        &mut state,
        results_view::render,
        results_view::handle_key,
    ))
}

/// Live run dashboard: runs the comparison and shows it on the terminal.
pub fn dashboard(opts: tickbench_loadgen::RunOpts) -> anyhow::Result<()> {
    dashboard::run(opts)
}
