//! `tickbench compare BASELINE CURRENT`: the regression gate.
//!
//! Each side is a `summary.json`, a `sweep.json`, or a results folder holding one. Phases are
//! matched by transport name (summary.json) or by cell id (sweep.json, e.g. `poll-c100-r5-i2s`),
//! and every metric gets a row with baseline, current, delta, limit and verdict.
//!
//! # What is gated by default, and why
//! Absolute times differ between machines (a CI runner is not the laptop the baseline came from),
//! so the default gate is on what a machine does not change:
//!
//! | metric | gate |
//! |---|---|
//! | loss = gaps + duplicates + out-of-order | current ≤ `max_loss` (default 0), whatever the baseline |
//! | requests per delivered tick | ≤ baseline × (1 + `requests_per_tick`), default +15 %, and more than 0.01 above it |
//! | empty-response share | ≤ baseline + `empty_pct` points, default 5 |
//! | bytes per delivered tick | ≤ baseline × (1 + `bytes_per_tick`), default +10 %, and more than 1 byte above |
//! | push transports (long-poll, streams): p50 / floor p50 and p99 / floor p50 | ≤ baseline × (1 + `latency`), default +200 % (3×), and more than 1 floor above |
//! | push transports: p50 / the same run's fan-out floor p50 | ≤ baseline × (1 + `fanout`), default +35 %, and more than 0.1 above it |
//! | schedule-bound transports (poll, jsonp, piggyback): p50 and p99 | ≤ baseline × (1 + `schedule_latency`), default +50 %, and more than 1 ms above |
//!
//! *Floor-relative latency*: the loopback floor (half a TCP round trip, measured in the same run)
//! scales with the machine like the server's own work does, so `p50 / floor_p50` cancels most of
//! the machine. The p99 is divided by the floor's **p50**, not its p99: the floor's tail is
//! too noisy to divide by. The floor is a few µs on loopback and moves by tens of percent between
//! runs on a busy machine (2.9 µs and 30.6 µs in two consecutive runs on the 2-core dev box), so
//! the tolerance is generous (3×) and a ratio's verdict stands only when the absolute latency
//! moved the same way beyond the same tolerance: a uniformly slower machine (floor and latency
//! both up) passes, a floor that jumped alone passes, a server that starts batching or flushing
//! late (latency up tens of ×, on any machine) fails. Absolute latency never fails a run by itself
//! unless `--absolute` is given.
//!
//! *Fan-out-floor multiple*: the fan-out floor (`loadgen::floor::fanout`) is measured in the same
//! run with the same clients, rate, watchlists and parser against a minimal writer, so a push
//! transport's p50 over the floor's p50 cancels the clients' own cost and the machine's load at the
//! time, which the loopback floor cannot. That steadiness buys a tight tolerance: a transport that got
//! twice as slow (`--debug-slow sse=2`, `experiments/gate-check.sh`) fails here while the loopback
//! ratios forgive it. The p99 multiple is shown as an info row. Runs without the floor
//! (`--no-fanout-floor`, no push transport) have no such row.
//!
//! *Schedule-bound latency*: a polling client's latency is set by its interval (a tick waits half
//! an interval on average), and a piggyback client's by its own request rate, identically on every
//! machine. Dividing it by the floor would turn a faster machine into a "regression", so those
//! transports are gated on their latency as measured (which *is* what a machine does not change),
//! with their own, tighter tolerance: a doubled interval must fail.
//!
//! *The tail*: where both runs' folders hold a `latency.hlog` (one histogram per transport per
//! second), every p99 above is the **median over the measured seconds of each second's p99**
//! (rows say "median of seconds"; the window's p99 stays as an info row). One hypervisor stall
//! spoils one second, not the median, so a 4 s phase is no longer decided by a single stall; a
//! server that got slower moves every second. Without the log (a bare summary.json, a sweep),
//! the window's p99 is gated as before.
//!
//! *Steal*: a current phase with high CPU steal (`steal_pct` ≥ `HIGH_STEAL_PCT`) gets a warning
//! row, and its latency regressions become warnings: they describe the host. The same holds for
//! a phase during which other processes used a quarter or more of the machine's CPU
//! (`extra.foreign_cpu_pct` ≥ `HIGH_FOREIGN_PCT`, see `tickbench_loadgen::steal`): a `foreign CPU`
//! warning row, latency regressions as warnings. Loss is never excused.
//!
//! `--absolute` adds absolute p50/p99 (µs) and server CPU per tick, within `absolute` (default
//! +50 %): use it only when both runs come from the same machine.
//!
//! Runs whose matched phases spoke different protocols (HTTP/1.1 or HTTP/2, TLS or not, tabs
//! per connection: [`Link`](tickbench_wire::Link)) are not gated at all: exit 2 with the
//! differences, since a change of protocol is not a regression of either.
//!
//! A current phase that delivered nothing (while the baseline's did) is a regression on its own:
//! its ratios would otherwise read as zeros, i.e. "better".
//!
//! Warnings (a row each, exit 0 unless `--strict`): a current phase marked `saturated`, a current
//! run with `complete: false`, errors, declared gaps, clients that never received a tick,
//! deliveries per second under half the baseline's, phases the baseline has but the current
//! run lacks, and runs configured differently (clients, rate, durations…: compare like with like).
//!
//! # Layout
//! - [`input`]: reading the two sides (summary.json, sweep.json, a folder) into phases.
//! - [`thresholds`]: the tolerances: defaults < thresholds file < its per-transport table < flags.
//! - [`gate`]: the rules above, turning two runs into rows; [`bound`] decides one row.
//! - [`tail`]: the median over seconds of each second's p99, from `latency.hlog`.
//! - [`model`]: the rows and the overall verdict ([`GateVerdict`]) with the regressed phases.
//! - [`render`]: Markdown, github-action-benchmark JSON, and `--format gate` for scripts.
//! - [`cli`]: the command (exit 0 pass, 1 regression, 2 bad input); [`opts`] its flags;
//!   [`error`] the bad-input messages.

pub mod bound;
pub mod cli;
pub mod error;
pub mod gate;
pub mod input;
pub mod model;
pub mod opts;
pub mod render;
pub mod tail;
#[cfg(test)]
mod tests;
pub mod thresholds;

pub use cli::compare;
pub use error::BadInput;
pub use gate::compare_runs;
pub use input::{load_run, Run};
pub use model::{Comparison, GateVerdict, Row, RowVerdict};
pub use opts::{CompareOpts, Format};
pub use thresholds::{Thresholds, Tolerances};
