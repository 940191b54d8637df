//! tickbench's laboratory: experiment sweeps (`tickbench sweep experiments/<name>.toml`) and the CI
//! regression gate (`tickbench compare BASELINE CURRENT`).
//!
//! An *experiment* is a TOML file naming a matrix — transports × clients × tick rate × poll
//! interval × action rate × links (HTTP version, TLS, tabs per connection) — plus durations, seed, repetitions and the claim it tests. A *sweep*
//! runs every cell of the matrix on a fresh embedded server through the load generator, then writes
//! one folder with each cell's results, `sweep.json`/`sweep.csv`, SVG charts and `report.md`, whose
//! verdict paragraph says — computed from the data — whether the claim held on this run.
//!
//! `compare` reads two `summary.json` (or `sweep.json`) files and gates on what does not change
//! between machines: loss must be 0, requests/bytes per delivered tick and the empty-answer share
//! within a tolerance, latency relative to the loopback floor measured in the same run. See
//! [`compare`](mod@compare) for the exact rules. CI runs `tickbench compare results/baseline <new results
//! folder> --format gate` and reads its `verdict=` and `regressed=` lines (exit 0 pass, 1
//! regression, 2 bad input).
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
//! The experiment file, from the leaves up (each module uses only those above it):
//! - [`units`]: how numbers, durations and latencies are written (cell ids, charts, sentences).
//! - [`values`]: the validated TOML values (`Positive`, `Dur`, `Count`...), errors with spans.
//! - [`check`]: the `[verdict]` table: which claim analysis judges the sweep.
//! - [`experiment`]: the experiment file schema and its validation (errors name line and field);
//!   `experiment/cell.rs` is one [`experiment::Cell`] of the matrix, `experiment/link.rs` one
//!   value of its `links` axis.
//!
//! What a sweep records and concludes:
//! - [`verdict`]: a claim's outcome with its paragraph, as sweep.json stores it.
//! - [`record`]: the `sweep.json` schema, cell by cell.
//! - [`points`]: the cells folded into per-point medians, which everything below reads.
//! - [`claims`]: one file per claim analysis, dispatched by [`claims::judge`].
//! - [`charts`]: the SVG charts (`axis`, `spec`, `draw`); one colour per transport.
//! - [`report`]: `sweep.json`, `sweep.csv`, `report.md`.
//! - [`error`]: the lab's [`Error`] (bad experiment file, I/O, interrupted, failed cells).
//! - [`sweep`](mod@sweep): the command: `run` loops over the cells through a `runner`, with `progress`,
//!   `signals`, `plan` (`--dry-run`) and `rebuild` (`--rebuild`).
//!
//! The regression gate, apart from the sweep (it reads `record` only):
//! - [`compare`](mod@compare): `input` (summary.json through the load generator's reader, sweep.json),
//!   `thresholds`, `gate` + `bound` (the rules), `model` (rows, verdict, regressed phases),
//!   `render` (Markdown, benchmark JSON, `--format gate`), `cli`.

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
pub use error::Error;
pub use sweep::{sweep, SweepOpts};
