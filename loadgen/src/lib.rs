//! The tickbench load generator: thousands of simulated clients per transport against one quote
//! server, one transport after another, with end-to-end latency in HdrHistograms (from each tick's
//! *scheduled* time, so a stalled server or generator shows up instead of hiding), sequence checks
//! on every delivery, and the instrument's own saturation reported next to its figures.
//!
//! ```no_run
//! use tickbench_loadgen::{run_with_progress, RunOpts};
//! use tokio_util::sync::CancellationToken;
//!
//! let opts = RunOpts { clients: 50, transports: vec!["sse".parse()?], ..RunOpts::default() };
//! let (summary, dir) = run_with_progress(opts, None, CancellationToken::new())?;
//! println!("{} → {}", summary.transports[0].latency_us.p99, dir.display());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Faults and slow consumers
//! `--chaos reset=1%,stall=0.5%:2s,cut=0.5%,restart=30s` puts an in-process TCP proxy
//! ([`chaos`]) between the clients and the server and injects faults at those rates (share of
//! live connections per second); `restart=` restarts the embedded server, which continues the same
//! seeded stream via `--epoch-us`. `--slow-clients 10% --slow-factor 10` makes that share of the
//! stream clients read their socket ten times slower (by bytes, [`clients::ReadRate`]) than
//! their ticks arrive, over a small receive window ([`clients::slowlink`]) as behind a slow link,
//! so their backlog waits at the server rather than in their own kernel buffer; their latencies and gap notices are kept apart (`slow_*` extras), so the
//! phase's latency columns describe the other clients. Both show as extra tables in `report.md`
//! and the plain output.
//!
//! # Layout
//! - [`opts`]: [`RunOpts`] (`tickbench run` flags) and their validation; [`share`]: `10%` shares.
//! - [`error`](Error): [`Error`], every failure the library reports (`anyhow` stays in the binary).
//! - [`run`](mod@run): the run: `harness` (embedded server, proxy, restarter around one run),
//!   `driver` (the run's coordinator: floors, then one phase per transport), `phase` (one phase,
//!   second by second), `floors` (the fan-out floor's phase, the bare HTTP loop), `config` (the
//!   configuration recorded in summary.json), `window` (a phase's measured seconds
//!   summed into its results row), `population` (the clients: watchlists, slow consumers, source
//!   addresses), `probe` (`/symbols`, `/healthz`), `limits`, `signals`, `restarter`.
//! - [`worker`]: worker threads (current-thread runtime + `LocalSet` each) running the clients.
//! - [`stats`]: the [`clients::Sink`] implementation, per-second intervals, histogram merging.
//! - [`clients`]: the simulated clients of every transport (the client contract).
//! - [`child`]: [`child::ChildServer`], the embedded server child process (used by `run` and by
//!   `tickbench view`).
//! - [`chaos`]: `--chaos`, the fault-injecting TCP proxy between clients and server.
//! - [`floor`]: the loopback TCP ping-pong floors and the fan-out floor.
//! - [`steal`]: CPU steal per phase from `/proc/stat`.
//! - [`procstat`]: CPU (nanoseconds, per-process clock) and RSS of a process.
//! - [`host`]: the machine a run measured on (cores, CPU model, kernel), for `summary.json`.
//! - [`pin`]: `--pin`, the server and the load generator on separate cores.
//! - [`saturation`]: when the load generator is the bottleneck; `saturation::probe`, the
//!   event-loop probe every worker runs.
//! - [`results`]: the results folder (`summary.json`, `.hgrm`, `latency.hlog`, `report.md`,
//!   `latency.svg`); [`results::read()`], the one reader of a summary; [`results::table`], the
//!   comparison table every view (Markdown, plain text, the TUI) renders.
//! - [`plain`]: progress bar and table output without a terminal UI.
//! - [`targets`]: what a run can measure (tickbench, nginx + Nchan, Pushpin), the publisher that
//!   feeds the peers tickbench's market, and Pushpin's GRIP backend; [`peers`]: installing,
//!   starting and stopping nginx + Nchan and Pushpin from the shipped configs.
//! - [`progress`]: the live events a run sends to an observer (TUI, sweep).

pub mod apt;
pub mod chaos;
pub mod child;
pub mod clients;
pub mod error;
pub mod floor;
pub mod host;
pub mod opts;
pub mod peers;
pub mod pin;
pub mod plain;
pub mod procstat;
pub mod progress;
pub mod results;
pub mod run;
pub mod saturation;
pub mod share;
pub mod stats;
pub mod steal;
pub mod targets;
pub mod worker;

pub use error::Error;
pub use floor::{measure_cross_thread_floor, measure_floor};
pub use opts::{BrowserPhase, OutputFormat, RunOpts, Watch};
pub use plain::run;
pub use progress::{Progress, SecondSnapshot, Stage};
pub use run::{cancel_on_signals, run_with_progress, stopped_by_signal};
