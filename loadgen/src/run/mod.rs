//! The run: resolve the target (or start the embedded server), measure the loopback floor, then one
//! phase per transport, each with ramp-up, warm-up and a measured window, and write the results.
//!
//! The coordinator runs on the calling thread (a small current-thread runtime); the clients run on
//! the [`Worker`](crate::worker::Worker) threads. Every second the coordinator collects each
//! worker's interval, merges them with `Histogram::add`, samples CPU and memory of both processes
//! and the server's journal head, judges saturation, records the second (if it belongs to a
//! measured window) and sends a [`Progress::Second`](crate::progress::Progress::Second).
//! Collections also happen exactly at stage boundaries, so every interval belongs to one stage and
//! only the measured ones reach the results.
//!
//! # Layout
//! - [`harness`]: [`run_with_progress`]: the embedded server, the chaos proxy and its restarter
//!   around one coordinator, stopped in order.
//! - `limits`: the open-file limit check made before anything starts.
//! - `signals`: [`cancel_on_signals`], Ctrl-C and SIGTERM as a cancellation.
//! - `restarter`: `--chaos restart=`, restarting the embedded server on a period.
//! - `probe`: the coordinator's own requests to the server (`/symbols`, `/healthz`).
//! - `population`: the clients of a run (watchlists, slow consumers, source addresses, seeds).
//! - `driver`: the [`Coordinator`](driver) of one run: floors, one phase per transport, results.
//! - `phase`: one transport phase, second by second.
//! - `floors`: the fan-out floor's phase and the bare HTTP loop, beside the transport phases.
//! - `config`: the resolved configuration recorded in `summary.json`.
//! - `peer`: a run against nginx + Nchan or Pushpin: the publisher, Pushpin's GRIP backend, the
//!   peer's processes.
//! - [`targets`]: `--targets`, the same run against several servers and one side-by-side report.
//! - `window`: one measured second, and a phase's measured window summed into its results row.

mod config;
mod driver;
mod floors;
pub mod harness;
mod limits;
mod peer;
mod phase;
mod population;
mod probe;
mod restarter;
mod signals;
pub mod targets;
mod window;

pub use harness::run_with_progress;
pub use signals::{cancel_on_signals, stopped_by_signal};
