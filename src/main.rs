//! `tickbench`: one binary, thin on purpose. Every subcommand's options and logic live in a library
//! crate (`server`, `loadgen`, `tui`, `lab`); this file only parses the command line, picks the
//! subcommand and turns its outcome into an exit code (see [`EXIT_CODES`]).
//!
//! One enum arm per subcommand in [`Command`] and in [`main`]'s dispatch.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{ArgAction, CommandFactory, Parser, Subcommand};
use tickbench_loadgen::{OutputFormat, RunOpts};

/// The exit codes, as `--help` lists them.
const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    error (one line on stderr); `compare`: a regression; `sweep` stopped by Ctrl-C or SIGTERM
       (the cells that ran are in its folder)
  2    bad command line or bad input
  3    `run --fail-on-saturated`: a phase was SATURATED
  130  `run` interrupted by Ctrl-C or `q` in the dashboard (also a second Ctrl-C in `sweep`):
       partial results written, marked incomplete
  143  `run` stopped by SIGTERM: partial results written, marked incomplete";

/// Stock-quote ticker simulator and Comet push testbed.
#[derive(Debug, Parser)]
#[command(
    name = "tickbench",
    version,
    about,
    long_about = long_about(),
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(flatten)]
    verbosity: Verbosity,
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand the `run` options apply: `tickbench --no-tui` is `tickbench run
    /// --no-tui`.
    #[command(flatten, next_help_heading = "Run options (without a subcommand)")]
    run: RunOpts,
}

/// `-q` / `-v`, accepted before or after the subcommand.
#[derive(Debug, clap::Args)]
struct Verbosity {
    /// More log lines on stderr: -v info, -vv debug, -vvv trace (RUST_LOG, if set, wins).
    #[arg(short, long, action = ArgAction::Count, global = true, conflicts_with = "quiet")]
    verbose: u8,
    /// Errors only: no progress bars, no warnings on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
}

// Parsed once at start-up and consumed at once: the size difference between `run`'s options and
// the others costs nothing, and boxing would only obscure the clap derive.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Start the quote server.
    Serve(tickbench_server::ServeOpts),
    /// Run the transport comparison (load generator) and write results/.
    Run(RunOpts),
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
    /// Print a shell completion script, e.g. `tickbench completions bash > ~/.local/share/bash-completion/completions/tickbench`.
    Completions {
        /// bash, elvish, fish, powershell or zsh.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `tickbench man | man -l -`.
    Man,
    /// Publish the seeded market to NATS JetStream for edges (`serve --feed nats://...`).
    Feed(tickbench_cluster::FeedOpts),
    /// Load agent: runs its share of a coordinated run (`run --agents N`) received over NATS.
    Agent(tickbench_cluster::AgentOpts),
    /// The older spelling of `run --agents N --nats URL --targets EDGES`.
    #[command(hide = true)]
    Coordinate(tickbench_cluster::CoordinateOpts),
    /// A whole cluster on this machine: `cluster up --edges M --agents N [--netns]`, `down`,
    /// `status`, `partition EDGE`, `heal EDGE`.
    Cluster(tickbench_cluster::ClusterCli),
    /// The fan-out floor in its own process, started by `run` when its sockets do not fit in
    /// the load generator's.
    #[command(hide = true)]
    FanoutFloor(tickbench_loadgen::floor::FloorOpts),
}

/// The top-level `--help` text: what a bare `tickbench` does and how long it takes, computed from
/// the run defaults so it cannot go stale.
fn long_about() -> String {
    let d = RunOpts::default();
    let phase = d.ramp + d.warmup + d.duration;
    let total = d.total_duration();
    format!(
        "Stock-quote ticker simulator and Comet push testbed.\n\n\
         A bare `tickbench` runs the full transport comparison (`tickbench run` with its \
         defaults) against an embedded server: {} transports, {} clients each, {} s per phase \
         ({} s ramp-up, {} s warm-up, {} s measured), about {} minutes in all. It writes \
         results/<timestamp>-run/ and shows a live dashboard on a terminal (`--no-tui` for \
         plain output). Every `run` option works without typing `run`.",
        d.transports.len(),
        d.clients,
        phase.as_secs(),
        d.ramp.as_secs(),
        d.warmup.as_secs(),
        d.duration.as_secs(),
        total.as_secs().div_ceil(60),
    )
}

fn main() -> ExitCode {
    // clap's own rendering: the error, the hint ("a similar argument exists"), the usage line;
    // exit 2 for errors, 0 for --help and --version.
    let cli = match agents_run() {
        Some(Ok(opts)) => Cli {
            verbosity: Verbosity {
                verbose: 0,
                quiet: false,
            },
            command: Some(Command::Coordinate(opts)),
            run: RunOpts::default(),
        },
        Some(Err(tickbench_cluster::AgentsRunError::Clap(e))) => e.exit(),
        Some(Err(tickbench_cluster::AgentsRunError::Bad(why))) => {
            eprintln!("tickbench: {why}");
            return ExitCode::from(2);
        }
        None => parse().unwrap_or_else(|e| e.exit()),
    };
    let command = cli.command.unwrap_or(Command::Run(cli.run));
    init_tracing(&command, &cli.verbosity);
    let quiet = cli.verbosity.quiet;

    let result = match command {
        Command::Serve(opts) => tickbench_server::run(opts).map_err(anyhow::Error::from),
        Command::FanoutFloor(opts) => {
            tickbench_loadgen::floor::process::serve(opts).map_err(anyhow::Error::from)
        }
        Command::Run(opts) => return run(RunOpts { quiet, ..opts }),
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
        Command::Cluster(cli) => tickbench_cluster::run_cluster(cli).map_err(anyhow::Error::from),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "tickbench",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(anyhow::Error::from),
    };
    exit_code(result)
}

/// `tickbench run --agents N ...`: the coordinator's form of `run` (its `--targets` are edge
/// URLs, not the side-by-side servers), parsed by the cluster crate. `None` for any other
/// command line.
fn agents_run(
) -> Option<Result<tickbench_cluster::CoordinateOpts, tickbench_cluster::AgentsRunError>> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let after_run = args.iter().position(|a| a == "run")?;
    if args[..after_run]
        .iter()
        .any(|a| !a.to_string_lossy().starts_with('-'))
    {
        return None;
    }
    let rest = &args[after_run + 1..];
    tickbench_cluster::is_agents_run(rest)
        .then(|| tickbench_cluster::coordinate_opts_from_run(rest))
}

/// Parses the command line. `run` options before a subcommand (`tickbench --no-tui serve`) are
/// refused, as clap's `args_conflicts_with_subcommands` would, except `-q`/`-v`, which that
/// setting would refuse too.
fn parse() -> Result<Cli, clap::Error> {
    use clap::parser::ValueSource;
    use clap::FromArgMatches;
    let mut cmd = Cli::command();
    let matches = cmd.try_get_matches_from_mut(std::env::args_os())?;
    if let Some((sub, _)) = matches.subcommand() {
        let stray = matches.ids().find(|id| {
            !matches!(id.as_str(), "verbose" | "quiet")
                && matches.value_source(id.as_str()) == Some(ValueSource::CommandLine)
        });
        if let Some(id) = stray {
            return Err(cmd.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "'--{}' is a `run` option: put it after `{sub}`, or drop `{sub}`",
                    id.as_str().replace('_', "-")
                ),
            ));
        }
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.with_cmd(&cmd))
}

/// `tickbench run`: the dashboard on a terminal, plain output otherwise; then the exit code from
/// what was written (Ctrl-C or `q` → 130, SIGTERM → 143, saturated with `--fail-on-saturated` → 3).
fn run(mut opts: RunOpts) -> ExitCode {
    if opts.browser {
        opts.browser_phase = Some(tickbench_browser::run_phase(&opts));
    }
    if !opts.targets.is_empty() {
        // One side-by-side report over several servers (no single summary to judge), plain.
        return exit_code(
            tickbench_loadgen::run(opts)
                .map(drop)
                .map_err(anyhow::Error::from),
        );
    }
    let fail_on_saturated = opts.fail_on_saturated;
    let tui = !opts.no_tui
        && opts.format == OutputFormat::Table
        && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal();
    let latest = opts.out.join("latest");
    let dir = if tui {
        tickbench_tui::dashboard(opts)
            .map(|()| latest)
            .map_err(anyhow::Error::from)
    } else {
        tickbench_loadgen::run(opts).map_err(anyhow::Error::from)
    };
    let dir = match dir {
        Ok(d) => d,
        Err(e) => return exit_code(Err(e)),
    };
    let summary = match tickbench_loadgen::results::read(&dir) {
        Ok(s) => s,
        Err(e) => return exit_code(Err(e.into())),
    };
    let code = outcome(
        &summary,
        tickbench_loadgen::stopped_by_signal(),
        fail_on_saturated,
    );
    ExitCode::from(code)
}

/// The exit code of a run that wrote `summary`.
fn outcome(summary: &tickbench_wire::Summary, signal: Option<i32>, fail_on_saturated: bool) -> u8 {
    if !summary.complete {
        // A run stopped early is not a finished run, whoever stopped it: a script or CI job must
        // not take its partial figures for a result (as `sweep` exits non-zero when stopped).
        // The shell's convention, 128 + the signal: SIGTERM 143; Ctrl-C and `q` 130.
        return match signal {
            Some(15) => 143,
            _ => 130,
        };
    }
    let saturated: Vec<&str> = summary
        .transports
        .iter()
        .filter(|t| t.saturated)
        .map(|t| t.name.as_str())
        .collect();
    if fail_on_saturated && !saturated.is_empty() {
        eprintln!(
            "tickbench: SATURATED (--fail-on-saturated): {}: the load generator was the bottleneck",
            saturated.join(", ")
        );
        return 3;
    }
    0
}

/// Success, or the error as one line on stderr and exit code 1 (a closed pipe is success).
fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tickbench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr so stdout stays machine-readable (`serve` prints its address there first);
/// while a full screen is up they go to the screen instead (and to `view --log FILE`), never
/// across it (see `tickbench_tui::log`).
/// The full-screen commands log nothing below `warn` unless `-v` or `RUST_LOG` asks, so logs do
/// not tear the screen; `-q` keeps only errors.
fn init_tracing(command: &Command, v: &Verbosity) {
    let default = match (v.quiet, v.verbose, command) {
        (true, _, _) => "error",
        (false, 0, Command::Serve(_) | Command::Feed(_) | Command::Agent(_)) => "info",
        (false, 0, _) => "warn",
        (false, 1, _) => "info",
        (false, 2, _) => "debug",
        (false, _, _) => "trace",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed CI baseline, with `complete` and the first phase's `saturated` set.
    fn summary(complete: bool, saturated: bool) -> tickbench_wire::Summary {
        let text = include_str!("../results/baseline/summary.json");
        let mut s: tickbench_wire::Summary = serde_json::from_str(text).unwrap();
        s.complete = complete;
        for t in &mut s.transports {
            t.saturated = false;
        }
        s.transports[0].saturated = saturated;
        s
    }

    #[test]
    fn exit_codes_follow_the_outcome() {
        assert_eq!(outcome(&summary(true, false), None, true), 0);
        assert_eq!(outcome(&summary(true, true), None, false), 0);
        assert_eq!(outcome(&summary(true, true), None, true), 3);
        assert_eq!(outcome(&summary(false, false), Some(2), false), 130);
        assert_eq!(outcome(&summary(false, false), None, false), 130);
        assert_eq!(outcome(&summary(false, true), Some(15), true), 143);
        assert_eq!(outcome(&summary(false, false), Some(15), false), 143);
    }
}
