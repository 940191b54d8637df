//! Load agents and their coordinator, over core NATS: `tickbench agent` runs its share of the
//! clients against its edge; `tickbench coordinate` splits the clients across agents and edges,
//! starts every agent at one wall time and merges their per-second histograms with
//! `Histogram::add` into one results folder plus a per-agent and per-edge breakdown.
//!
//! - [`plan`]: the subjects and messages.
//! - [`merge`]: merging hlogs and summaries.
//! - [`partial`]: what the coordinator keeps of an agent from its per-second beats.
//! - [`procs`]: CPU and RSS of the edges and local processes (feed, nats-server).
//! - [`worker`]: the agent.
//! - [`coordinator`]: the coordinator.
//! - [`opts`]: both commands' flags and processes.

pub mod coordinator;
pub mod merge;
pub mod opts;
pub mod partial;
pub mod plan;
pub mod procs;
pub mod worker;
