//! `tickbench cluster up|down|status|partition|heal`: the flags and what each prints.

use std::path::PathBuf;

use super::guide::guide;
use super::up::{up, Up};
use crate::error::Error;

/// The directory a cluster lives in unless `--dir` says otherwise.
pub const DEFAULT_DIR: &str = "/tmp/tickbench-cluster";

/// `tickbench cluster`: a whole cluster on this machine.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterCli {
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum ClusterCommand {
    /// Start nats-server (JetStream), the feed, M edges and N agents, each its own detached
    /// process; print how to drive them.
    Up(UpOpts),
    /// Stop every process of the cluster and remove its namespaces (idempotent).
    Down(DirOpt),
    /// Say which processes of the cluster run (exit 1 unless all do).
    Status(DirOpt),
    /// Cut a host's link (`--netns` clusters): `edge1` (or `1`), `nats`, `agent2`, ...
    Partition(LinkOpts),
    /// Restore a host's link after `partition`.
    Heal(LinkOpts),
}

/// `cluster up`
#[derive(Debug, Clone, clap::Args)]
pub struct UpOpts {
    /// Edge servers (`tickbench serve --feed`).
    #[arg(long, short = 'm', default_value_t = 2)]
    pub edges: usize,
    /// Load agents (`tickbench agent`).
    #[arg(long, short = 'n', default_value_t = 2)]
    pub agents: usize,
    /// Each process in its own network namespace, on a bridge of the cluster's own (needs root
    /// and iproute2).
    #[arg(long)]
    pub netns: bool,
    #[command(flatten)]
    pub dir: DirOpt,
    /// The feed's number of symbols (default the feed's, 500).
    #[arg(long)]
    pub symbols: Option<usize>,
    /// The feed's aggregate tick rate, ticks/s (default the feed's, 100).
    #[arg(long)]
    pub rate: Option<f64>,
    /// The feed's seed (default the feed's, 1).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Where the cluster's state, logs and NATS store are.
#[derive(Debug, Clone, clap::Args)]
pub struct DirOpt {
    /// The cluster's directory: its state (`cluster.json`), logs and nats-server's store.
    #[arg(long, default_value = DEFAULT_DIR, env = "TICKBENCH_CLUSTER_DIR")]
    pub dir: PathBuf,
}

/// `cluster partition|heal`
#[derive(Debug, Clone, clap::Args)]
pub struct LinkOpts {
    /// The host: `edge1` (or just `1`), `nats`, `feed`, `agent1`, ...
    pub host: String,
    #[command(flatten)]
    pub dir: DirOpt,
}

/// Runs a `cluster` subcommand; the feed, edges and agents run this executable.
pub fn run_cluster(cli: ClusterCli) -> Result<(), Error> {
    match cli.command {
        ClusterCommand::Up(o) => {
            let exe = std::env::current_exe()
                .map_err(|e| Error::Launch(format!("cannot locate this executable: {e}")))?;
            let state = up(&Up {
                dir: o.dir.dir,
                edges: o.edges,
                agents: o.agents,
                netns: o.netns,
                symbols: o.symbols,
                rate: o.rate,
                seed: o.seed,
                exe,
            })?;
            print!("{}", guide(&state));
            Ok(())
        }
        ClusterCommand::Down(d) => {
            match super::down::down(&d.dir)? {
                Some(s) => println!(
                    "cluster {} down: none of its {} processes runs, no namespace of it is left",
                    s.id,
                    s.procs.len()
                ),
                None => println!("no cluster in {}", d.dir.display()),
            }
            Ok(())
        }
        ClusterCommand::Status(d) => {
            let Some(s) = super::status::status(&d.dir)? else {
                return Err(Error::Launch(format!("no cluster in {}", d.dir.display())));
            };
            print!("{}", s.render());
            if s.healthy() {
                Ok(())
            } else {
                let dead = s.alive.iter().filter(|a| !**a).count();
                Err(Error::Launch(format!(
                    "cluster {} is not fully up: {dead} of {} processes not running",
                    s.state.id,
                    s.alive.len()
                )))
            }
        }
        ClusterCommand::Partition(l) => {
            super::partition::partition(&l.dir.dir, &l.host)?;
            println!("{}: link down", l.host);
            Ok(())
        }
        ClusterCommand::Heal(l) => {
            super::partition::heal(&l.dir.dir, &l.host)?;
            println!("{}: link up", l.host);
            Ok(())
        }
    }
}
