//! `tickbench`: one binary, thin on purpose. Every subcommand's options and logic live in a library
//! crate (`server`, `loadgen`, `tui`, `lab`); this file only parses the command line, picks the
//! subcommand and turns errors into one line on stderr and a non-zero exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Stock-quote ticker simulator and Comet push testbed.
///
/// Without a subcommand, runs the full transport comparison against an embedded server
/// (`tickbench run` with its defaults).
#[derive(Debug, Parser)]
#[command(name = "tickbench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

// Parsed once per process: the size of the largest variant (`run`'s options) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Start the quote server.
    Serve(tickbench_server::ServeOpts),
    /// Run the transport comparison (load generator) and write results/.
    Run(tickbench_loadgen::RunOpts),
    /// Terminal stock ticker on any transport.
    View(tickbench_tui::ViewOpts),
    /// Show saved results (default results/latest); two runs side by side.
    Show(tickbench_tui::ShowOpts),
    /// Run an experiment matrix from a TOML file.
    Sweep(tickbench_lab::SweepOpts),
    /// Compare two runs: exit 0 if nothing regressed, 1 on regression, 2 on bad input.
    Compare(tickbench_lab::CompareOpts),
    /// Open the page in headless Chromium once per technique and write results/.
    Browser(tickbench_browser::BrowserOpts),
    /// Start or stop a peer server to measure (nginx + Nchan, Pushpin), installing it if missing.
    Peer(tickbench_loadgen::peers::cli::PeerCli),
    /// Publish the seeded market to NATS JetStream for edges (`serve --feed nats://...`).
    Feed(tickbench_cluster::FeedOpts),
    /// Load agent: runs its share of a coordinated run (`coordinate`) received over NATS.
    Agent(tickbench_cluster::AgentOpts),
    /// Run across load agents and edges; merges their histograms into one results folder.
    Coordinate(tickbench_cluster::CoordinateOpts),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let command = match cli.command {
        Some(c) => c,
        None => match Cli::parse_from(["tickbench", "run"]).command {
            Some(c) => c,
            None => unreachable!("`run` parses to a command"),
        },
    };
    init_tracing(&command);

    let result = match command {
        Command::Serve(opts) => tickbench_server::run(opts).map_err(anyhow::Error::from),
        Command::Run(mut opts) => {
            if opts.browser {
                opts.browser_phase = Some(tickbench_browser::run_phase(&opts));
            }
            if opts.targets.is_empty()
                && !opts.no_tui
                && std::io::stdout().is_terminal()
                && std::io::stdin().is_terminal()
            {
                tickbench_tui::dashboard(opts).map_err(anyhow::Error::from)
            } else {
                tickbench_loadgen::run(opts).map_err(anyhow::Error::from)
            }
        }
        Command::View(opts) => tickbench_tui::view(opts).map_err(anyhow::Error::from),
        Command::Show(opts) => tickbench_tui::show(opts).map_err(anyhow::Error::from),
        Command::Sweep(opts) => tickbench_lab::sweep(opts).map_err(anyhow::Error::from),
        Command::Compare(opts) => return ExitCode::from(tickbench_lab::compare(opts)),
        Command::Browser(opts) => tickbench_browser::run(opts)
            .map(drop)
            .map_err(anyhow::Error::from),
        Command::Peer(cli) => tickbench_loadgen::peers::cli::run(cli).map_err(anyhow::Error::from),
        Command::Feed(opts) => tickbench_cluster::run_feed(opts).map_err(anyhow::Error::from),
        Command::Agent(opts) => tickbench_cluster::run_agent(opts).map_err(anyhow::Error::from),
        Command::Coordinate(opts) => {
            tickbench_cluster::run_coordinate(opts).map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tickbench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout as clap prints them; a usage error becomes one line on stderr and
/// exit code 2 (clap's own rendering adds a blank line and a hint, which breaks "one clear line").
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            let text = e.render().to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("tickbench: {}", line.trim_start_matches("error: "));
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr so stdout stays machine-readable (`serve` prints its address there first);
/// while a full screen is up they go to the screen instead (and to `view --log FILE`), never
/// across it (see `tickbench_tui::log`). The full-screen commands log nothing below `warn`
/// unless `RUST_LOG` asks.
fn init_tracing(command: &Command) {
    let default = match command {
        Command::Serve(_) | Command::Feed(_) | Command::Agent(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(tickbench_tui::log::writer())
        .init();
}

/// `tickbench show | head` must not report an error when `head` closes the pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
