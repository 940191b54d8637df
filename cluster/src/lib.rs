//! tickbench past one machine: the seeded market published once to NATS JetStream, for any
//! number of edge servers (`tickbench serve --feed nats://...`) to serve, and the nats-server
//! those use, installed from Debian and started on loopback with JetStream.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = tempfile::tempdir()?;
//! let broker = tickbench_cluster::broker::Broker::start([127, 0, 0, 1].into(), 0, store.path())?;
//! let feed = tickbench_cluster::feed::Feed::start(tickbench_cluster::feed::FeedSettings::new(
//!     broker.url(),
//! ))
//! .await?;
//! let edge = tickbench_server::spawn(
//!     tickbench_server::Config { nats: Some(broker.url()), ..Default::default() },
//!     "127.0.0.1:0".parse()?,
//! )
//! .await?;
//! # let _ = (feed, edge); Ok(()) }
//! ```
//!
//! # Layout
//! - [`error`]: [`Error`], why a cluster command could not start or go on.
//! - [`broker`]: installing (apt-get, once, under a lock) and running nats-server.
//! - [`feed`]: `tickbench feed`: the market's ticks into the JetStream stream
//!   (`feed::stream` creates or adopts the stream, `feed::publish` sends the ticks,
//!   `feed::opts` is the command). The stream's layout and the edge's consumer are the server's
//!   (`tickbench_server::feed::nats`).
//! - [`agent`]: `tickbench agent` and `tickbench run --agents`: load agents over NATS and the
//!   coordinator that merges their histograms and keeps a lost agent's beats (`agent::plan`,
//!   `agent::merge`, `agent::partial`, `agent::procs`, `agent::worker`, `agent::coordinator`,
//!   `agent::opts`).
//! - [`launch`]: `tickbench cluster up|down|status|partition|heal`: the whole cluster on one
//!   machine, each process detached, with a state file (`launch::state`), optionally each in its
//!   own network namespace.
//! - [`netns`]: network namespaces joined by veths to a bridge of the cluster's own; a host's
//!   link cut and restored.

pub mod agent;
pub mod broker;
pub mod error;
pub mod feed;
pub mod launch;
pub mod netns;

pub use agent::opts::{
    coordinate_opts_from_run, is_agents_run, run_agent, run_coordinate, AgentOpts, AgentsRunError,
    CoordinateOpts,
};
pub use error::Error;
pub use feed::opts::{run_feed, FeedOpts};
pub use launch::{run_cluster, ClusterCli};
