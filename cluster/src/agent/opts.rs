//! `tickbench agent` and the coordinator (`tickbench run --agents N --nats URL --targets
//! EDGES`, or the hidden `tickbench coordinate`): their flags and processes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser as _;
use tickbench_loadgen::clients::SourceAddrs;
use tickbench_loadgen::RunOpts;

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
    /// Source addresses this agent's clients connect from, e.g. `127.0.0.2-127.0.0.9` (client i
    /// uses address i mod N), so that tens of thousands of connections to the edges do not
    /// run out of ephemeral ports.
    #[arg(long, value_name = "FIRST-LAST")]
    pub source_addrs: Option<SourceAddrs>,
}

/// The coordinator: a run across load agents and edges, merged into one results folder
/// (`tickbench run --agents N ...`; `tickbench coordinate` is its older, hidden spelling).
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
    /// A local process whose CPU and RSS `agents.json` reports, `NAME=PID` (the feed's,
    /// nats-server's); repeat for more. The edges' come from their `/metrics`.
    #[arg(long = "proc", value_name = "NAME=PID", value_parser = parse_proc)]
    pub procs: Vec<(String, u32)>,
    /// An agent silent for this long is reported lost (its data so far is kept, marked partial).
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub agent_timeout: Duration,
}

fn parse_proc(s: &str) -> Result<(String, u32), String> {
    let (name, pid) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}': want NAME=PID, e.g. feed=1234"))?;
    let pid = pid
        .parse()
        .map_err(|_| format!("'{pid}' is not a process id"))?;
    Ok((name.to_string(), pid))
}

/// Why `run --agents ...` cannot go: clap's own error (unknown flag, bad value), or a bad
/// combination in one line.
#[derive(Debug)]
pub enum AgentsRunError {
    Clap(clap::Error),
    Bad(String),
}

/// The coordinator's own flags in `tickbench run --agents ...`; every other flag is a
/// `tickbench run` flag for the agents.
#[derive(Debug, clap::Parser)]
#[command(name = "tickbench run", no_binary_name = true)]
struct AgentsRun {
    #[command(flatten)]
    coordinator: CoordinatorFlags,
}

#[derive(Debug, clap::Args)]
struct CoordinatorFlags {
    #[arg(long)]
    agents: usize,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    wait: Duration,
    #[arg(long = "proc", value_parser = parse_proc)]
    procs: Vec<(String, u32)>,
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    agent_timeout: Duration,
}

/// The flags of the coordinator (taking a value each) that `run --agents` adds to `run`'s.
const COORDINATOR_FLAGS: [&str; 6] = [
    "--agents",
    "--nats",
    "--targets",
    "--wait",
    "--proc",
    "--agent-timeout",
];

/// Whether `args` (after `run`) ask for a coordinated run.
pub fn is_agents_run(args: &[OsString]) -> bool {
    args.iter().any(|a| {
        let a = a.to_string_lossy();
        a == "--agents" || a.starts_with("--agents=")
    })
}

/// `tickbench run --agents N --nats URL --targets EDGE,EDGE [run flags]` (the args after
/// `run`) as a coordinated run: `--clients`, `--label` and `--out` are the whole run's; every
/// other `run` flag goes to each agent. Agent `i` measures edge `i mod M` with every other
/// edge to fail over to.
pub fn coordinate_opts_from_run(args: &[OsString]) -> Result<CoordinateOpts, AgentsRunError> {
    let (mine, rest) = split_flags(args, &COORDINATOR_FLAGS);
    let c = AgentsRun::try_parse_from(&mine)
        .map_err(AgentsRunError::Clap)?
        .coordinator;
    #[derive(Debug, clap::Parser)]
    #[command(name = "tickbench run", no_binary_name = true)]
    struct Run {
        #[command(flatten)]
        run: RunOpts,
    }
    let run = Run::try_parse_from(&rest)
        .map_err(AgentsRunError::Clap)?
        .run;
    let bad = |m: &str| Err(AgentsRunError::Bad(m.to_string()));
    if c.agents == 0 {
        return bad("--agents must be at least 1");
    }
    if c.targets.is_empty() {
        return bad("--agents needs --targets EDGE_URL,EDGE_URL... (the edges: `tickbench serve --feed nats://...`)");
    }
    if let Some(t) = c.targets.iter().find(|t| {
        t.parse::<reqwest::Url>()
            .map_or(true, |u| !u.scheme().starts_with("http"))
    }) {
        return Err(AgentsRunError::Bad(format!(
            "with --agents, --targets takes edge URLs (http://HOST:PORT,...), not '{t}'"
        )));
    }
    if run.target.is_some() {
        return bad("with --agents the edges are --targets URL,URL...; drop --target");
    }
    if !run.failover.is_empty() {
        return bad("with --agents every agent fails over to every other edge; drop --failover");
    }
    if run.source_addrs.is_some() {
        return bad("with --agents give --source-addrs to each `tickbench agent`");
    }
    if run.clients < c.agents as u64 {
        return bad(
            "--clients must be at least --agents (the clients are split across the agents)",
        );
    }
    let (_, run_args) = split_flags(&rest, &["--clients", "-c", "--label", "-l", "--out", "-o"]);
    Ok(CoordinateOpts {
        nats: c.nats,
        agents: c.agents,
        targets: c.targets,
        clients: run.clients,
        run_args: run_args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        label: run.label,
        out: run.out,
        wait: c.wait,
        procs: c.procs,
        agent_timeout: c.agent_timeout,
    })
}

/// Splits `args` into the `flags` (each with its value: `--f V` or `--f=V`) and the rest.
fn split_flags(args: &[OsString], flags: &[&str]) -> (Vec<OsString>, Vec<OsString>) {
    let (mut mine, mut rest) = (Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        let name = s.split_once('=').map_or(&*s, |(n, _)| n);
        if flags.contains(&name) {
            mine.push(a.clone());
            if !s.contains('=') {
                if let Some(v) = it.next() {
                    mine.push(v.clone());
                }
            }
        } else {
            rest.push(a.clone());
        }
    }
    (mine, rest)
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
        let serve = super::worker::serve(client, name, opts.source_addrs, cancel.clone());
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
                dead_after: opts.agent_timeout,
                procs: opts.procs,
            },
        )
        .await?;
        println!("{}", done.dir.display());
        Ok(())
    })
}
