//! `tickbench sweep`: an experiment's cells measured one after another, each on a fresh embedded
//! server (or the `--target`), into one sweep folder:
//!
//! ```text
//! <out>/<UTC timestamp>-<experiment name>/
//!   experiment.toml        the file as given
//!   cells/<cell id>/       each cell's summary.json, <transport>.hgrm, latency.hlog, …
//!   sweep.json             every cell with its summary; complete:false if interrupted
//!   sweep.csv              one row per cell
//!   report.md, charts/     the claim, its verdict, a table, SVG charts
//! ```
//!
//! `sweep.json` is rewritten after every cell, so even a killed sweep leaves a record of what ran.
//! Ctrl-C (or SIGTERM) cancels the running cell, which writes its partial summary
//! (`complete:false`); the sweep then writes its report over what it has and exits non-zero. A
//! second Ctrl-C exits at once.
//!
//! # Layout
//! - [`run`]: the loop over the cells and the sweep folder; [`runner`] measures one cell.
//! - [`progress`], [`signals`]: what the user sees and how Ctrl-C stops it.
//! - [`plan`](mod@plan) (`--dry-run`) and [`rebuild`](mod@rebuild) (`--rebuild`).

pub mod plan;
pub mod progress;
pub mod rebuild;
pub mod run;
pub mod runner;
pub mod signals;
#[cfg(test)]
mod test_support;

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

pub use plan::plan;
pub use rebuild::rebuild;
pub use run::{run_sweep, SweepConfig, SweepOutcome};
pub use runner::{CellError, CellRunner, LoadgenRunner};

use crate::error::Error;
use crate::experiment::Experiment;
use crate::record::CellStatus;
use signals::cancel_on_signals;

/// `tickbench sweep` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepOpts {
    /// Experiment file (TOML), e.g. experiments/polling-waste.toml.
    pub experiment: PathBuf,
    /// Measure this server (e.g. http://127.0.0.1:8080) instead of a fresh embedded server per
    /// cell. The experiment's `rate` axis cannot change a running server's tick rate.
    #[arg(long)]
    pub target: Option<String>,
    /// Folder the sweep folder is created under.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Smoke run: every cell measures 2 s after a 0.5 s ramp and warm-up; the matrix is unchanged.
    #[arg(long)]
    pub quick: bool,
    /// Print the cells and the expected duration; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Load-generator worker threads per cell (default: one per CPU).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Treat EXPERIMENT as an existing sweep folder and rewrite its report.md, charts, sweep.csv
    /// and verdict from its sweep.json (nothing is measured).
    #[arg(long, conflicts_with_all = ["quick", "dry_run", "target"])]
    pub rebuild: bool,
    /// Binary to start the embedded servers from (default: this executable). For tests.
    #[arg(long, hide = true)]
    pub server_bin: Option<PathBuf>,
}

/// `tickbench sweep`.
pub fn sweep(opts: SweepOpts) -> Result<(), Error> {
    if opts.rebuild {
        return rebuild(&opts.experiment);
    }
    let mut exp = Experiment::load(&opts.experiment)?;
    let source = std::fs::read_to_string(&opts.experiment).unwrap_or_default();
    if opts.quick {
        exp.quicken();
    }
    if opts.target.is_some() && !exp.rate.is_empty() {
        eprintln!(
            "tickbench sweep: warning: with --target the server's own tick rate applies; the \
             experiment's rate axis only labels the cells"
        );
    }
    let cells = exp.cells();
    if opts.dry_run {
        print!("{}", plan(&exp, &cells));
        return Ok(());
    }
    let cancel = CancellationToken::new();
    cancel_on_signals(cancel.clone())?;
    let mut runner = LoadgenRunner {
        target: opts.target.clone(),
        workers: opts.workers,
        server_bin: opts.server_bin.clone(),
    };
    let cfg = SweepConfig {
        source,
        out: opts.out.clone(),
        target: opts.target.clone(),
        quick: opts.quick,
    };
    let outcome = run_sweep(&exp, &cfg, &mut runner, cancel)?;
    let r = &outcome.record;
    let done = r
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Done)
        .count();
    let verdict = r
        .verdict
        .as_ref()
        .map(|v| format!("; the claim {}", v.outcome.as_str()))
        .unwrap_or_default();
    eprintln!(
        "sweep {}: {done}/{} cells done{verdict}; report: {}",
        exp.name,
        r.cells_planned,
        outcome.dir.join("report.md").display()
    );
    println!("{}", outcome.dir.display());
    if r.interrupted {
        return Err(Error::Interrupted {
            done,
            planned: r.cells_planned,
            dir: outcome.dir.clone(),
        });
    }
    let failed = r
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Failed)
        .count();
    if failed > 0 {
        let first = r
            .cells
            .iter()
            .find_map(|c| c.error.clone())
            .unwrap_or_default();
        return Err(Error::CellsFailed {
            failed,
            planned: r.cells_planned,
            first,
            dir: outcome.dir.clone(),
        });
    }
    Ok(())
}
