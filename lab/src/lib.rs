//! tickbench's laboratory: experiment sweeps (`tickbench sweep experiments/<name>.toml`) and the CI
//! regression gate (`tickbench compare BASELINE CURRENT`).
//!
//! An *experiment* is a TOML file naming a matrix — transports × clients × tick rate × poll
//! interval × action rate — plus durations, seed, repetitions and the claim it tests. A *sweep*
//! runs every cell of the matrix on a fresh embedded server through the load generator, then writes
//! one folder with each cell's results, `sweep.json`/`sweep.csv`, SVG charts and `report.md`, whose
//! verdict paragraph says — computed from the data — whether the claim held on this run.
//!
//! `compare` reads two `summary.json` (or `sweep.json`) files and gates on what does not change
//! between machines: loss must be 0, requests/bytes per delivered tick and the empty-answer share
//! within a tolerance, latency relative to the loopback floor measured in the same run. See
//! [`compare`] for the exact rules; CI runs
//! `tickbench compare results/baseline <new results folder>` and fails on exit code 1.
//!
//! ```no_run
//! use tickbench_lab::experiment::Experiment;
//! let exp = Experiment::parse(r#"
//!     name = "demo"
//!     claim = "SSE beats polling"
//!     transports = ["poll", "sse"]
//!     clients = [100, 1000]
//!     duration = "10s"
//! "#, "demo.toml").unwrap();
//! assert_eq!(exp.cells().len(), 4);
//! ```
//!
//! # Layout
//! - [`experiment`]: the experiment file schema, its validation (errors name line and field) and
//!   matrix expansion into [`experiment::Cell`]s.
//! - [`sweep`]: runs the cells (progress and ETA on stderr, Ctrl-C keeps partial results).
//! - [`record`]: the `sweep.json` schema and the per-point medians everything else reads.
//! - [`claims`]: the built-in verdict analyses an experiment's `[verdict]` table names.
//! - [`report`]: `sweep.json`, `sweep.csv`, `report.md`.
//! - [`charts`]: the SVG charts.
//! - [`compare`]: the regression gate: metrics, thresholds, verdicts, Markdown and JSON output.

pub mod charts;
pub mod check;
pub mod claims;
pub mod compare;
pub mod error;
pub mod experiment;
pub mod points;
pub mod record;
pub mod report;
pub mod sweep;
pub mod units;
pub mod values;
pub mod verdict;

pub use compare::{compare, CompareOpts};
pub use sweep::{sweep, SweepOpts};
