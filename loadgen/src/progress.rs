//! What a run tells a live observer (the TUI dashboard, the plain progress bar, a sweep) while it
//! measures. Sent over a **bounded** channel with `try_send`: a slow screen drops snapshots, it never
//! slows the measurement.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use hdrhistogram::Histogram;
use tickbench_wire::{Summary, Transport, TransportSummary};

/// Which part of a phase a snapshot belongs to. Only `Measure` is recorded in the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Clients are being started.
    Ramp,
    /// All clients started; the system settles; nothing is recorded.
    Warmup,
    /// The measured window.
    Measure,
}

/// One event of a run, in order.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The run resolved its configuration and knows its target.
    Started {
        target: String,
        transports: Vec<Transport>,
        /// Expected wall time of the whole run (all phases).
        total: Duration,
        /// Loopback floor measured before the phases (µs, half round trip).
        floor_us_p50: f64,
        floor_us_p99: f64,
        /// How the clients reach the server (HTTP version, TLS, tabs per connection).
        link: tickbench_wire::Link,
    },
    /// A phase begins.
    PhaseStarted {
        transport: Transport,
        /// 0-based position in the run and the number of phases.
        index: usize,
        of: usize,
        clients: u64,
        /// ramp + warm-up + measured window.
        duration: Duration,
    },
    /// One second of a phase.
    Second(Box<SecondSnapshot>),
    /// A phase's measured window is over; this is its final row.
    PhaseFinished(Box<TransportSummary>),
    /// The run is over and its results are written (`complete: false` in `summary` if interrupted).
    Finished { summary: Box<Summary>, dir: PathBuf },
}

/// The state of the running phase at the end of one second.
#[derive(Debug, Clone)]
pub struct SecondSnapshot {
    pub transport: Transport,
    pub stage: Stage,
    /// Time since the phase started, and since the run started / expected run total.
    pub phase_elapsed: Duration,
    pub run_elapsed: Duration,
    pub run_total: Duration,
    /// Clients with an open connection (streams) or alive (request transports) / asked for.
    pub clients_connected: u64,
    pub clients_target: u64,
    /// Ticks/s the server generated in this second (from its journal head).
    pub ticks_per_s: f64,
    /// CPU use of the server and the load generator in this second, percent of one core.
    pub server_cpu_pct: f64,
    pub loadgen_cpu_pct: f64,
    /// Instrument saturated in this second, and why.
    pub saturated: bool,
    pub saturation_reasons: Vec<String>,
    /// Latencies (µs) recorded in this second only: merge with `Histogram::add` for windows.
    pub interval: Histogram<u64>,
    /// Counters for this second only.
    pub delivered: u64,
    pub requests: u64,
    pub empty_responses: u64,
    pub bytes: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub gap_notices: u64,
    pub reconnects: u64,
    pub errors: BTreeMap<String, u64>,
    /// Edge takeovers finished in this second (`--failover`), µs; `None` when no client moved.
    pub takeover: Option<Histogram<u64>>,
}
