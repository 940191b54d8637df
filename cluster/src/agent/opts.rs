//! `tickbench agent` and `tickbench coordinate`: their flags and processes.

use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::coordinator::{coordinate, Coordination};
use crate::error::Error;
use tickbench_server::feed::nats::connect;

/// `tickbench agent`: a load agent waiting for plans from `tickbench coordinate`.
#[derive(Debug, Clone, clap::Args)]
pub struct AgentOpts {
    #[arg(
        long,
        value_name = "nats://HOST:PORT",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats: String,
    /// This agent's name (unique among the agents; default agent-<host>-<pid>).
    #[arg(long)]
    pub name: Option<String>,
}

/// `tickbench coordinate`: a run across load agents and edges, merged into one results folder.
#[derive(Debug, Clone, clap::Args)]
pub struct CoordinateOpts {
    #[arg(
        long,
        value_name = "nats://HOST:PORT",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats: String,
    /// Agents to use (the run waits for this many to answer).
    #[arg(long, default_value_t = 1)]
    pub agents: usize,
    /// The edges, comma-separated (`http://HOST:PORT`); agent i measures edge i mod M.
    #[arg(long, value_delimiter = ',', required = true)]
    pub targets: Vec<String>,
    /// Clients across all agents.
    #[arg(long, default_value_t = 100)]
    pub clients: u64,
    /// A `tickbench run` flag for every agent, verbatim; repeat for more
    /// (`--run-arg=--transports=sse --run-arg=--duration=60s`). Not --target/--clients/--label.
    #[arg(long = "run-arg", value_name = "FLAG", allow_hyphen_values = true)]
    pub run_args: Vec<String>,
    #[arg(long, default_value = "cluster")]
    pub label: String,
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// How long to wait for the agents to answer.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub wait: Duration,
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}

/// Runs an agent until SIGINT/SIGTERM.
pub fn run_agent(opts: AgentOpts) -> Result<(), Error> {
    let name = opts.name.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("agent-{}-{}", host.trim(), std::process::id())
    });
    runtime()?.block_on(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).map_err(Error::Signal)?;
        let mut int = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
        let client = connect(&opts.nats).await?;
        println!("agent {name} on {}", opts.nats);
        let cancel = CancellationToken::new();
        let serve = super::worker::serve(client, name, cancel.clone());
        tokio::select! {
            r = serve => r,
            _ = term.recv() => { cancel.cancel(); Ok(()) }
            _ = int.recv() => { cancel.cancel(); Ok(()) }
        }
    })
}

/// Runs a coordinated run; prints the results folder.
pub fn run_coordinate(opts: CoordinateOpts) -> Result<(), Error> {
    runtime()?.block_on(async move {
        let client = connect(&opts.nats).await?;
        let done = coordinate(
            &client,
            &Coordination {
                agents: opts.agents,
                targets: opts.targets,
                clients: opts.clients,
                run_args: opts.run_args,
                label: opts.label,
                out: opts.out,
                wait: opts.wait,
                start_delay: Duration::from_secs(2),
                dead_after: Duration::from_secs(15),
            },
        )
        .await?;
        println!("{}", done.dir.display());
        Ok(())
    })
}
