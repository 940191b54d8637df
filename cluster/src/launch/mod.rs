//! `tickbench cluster`: a whole cluster on one machine (nats-server with JetStream, the feed, M
//! edges, N agents), each its own detached process with its own file limit and log, optionally
//! each in its own network namespace ([`crate::netns`]); stopped, inspected and partitioned by
//! the same command through the state file in its directory.
//!
//! - [`state`]: `DIR/cluster.json`, the processes and namespaces.
//! - [`spawn`]: starting a detached process, stopping a group of them.
//! - [`ready`]: waiting for a process to answer.
//! - [`up`]: starting the cluster; [`guide`]: what `up` prints.
//! - [`down`]: stopping it; [`status`]: what is alive.
//! - [`partition`]: cutting and restoring a host's link.
//! - [`opts`]: the command's flags.

pub mod down;
pub mod guide;
pub mod opts;
pub mod partition;
pub mod ready;
pub mod spawn;
pub mod state;
pub mod status;
pub mod up;

pub use down::down;
pub use opts::{run_cluster, ClusterCli};
pub use partition::{heal, partition};
pub use state::State;
pub use status::status;
pub use up::{up, Up};
