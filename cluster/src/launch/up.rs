//! `cluster up`: nats-server with JetStream, the feed, M edges and N agents, each its own detached
//! process (see [`super::spawn`]), on distinct loopback addresses, or with `--netns` each in its
//! own network namespace on one bridge; then waits until nats-server, the feed and every edge
//! answer and every agent said hello. A failure stops what was started.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::down::stop_all;
use super::ready;
use super::spawn::{raise_nofile, spawn, Spec};
use super::state::{NetState, Phase, Proc, Role, State};
use crate::error::Error;
use crate::netns::{self, Net, SUBNET};

/// How long each process may take to be ready.
const READY: Duration = Duration::from_secs(30);
/// The port every service uses inside its own namespace.
const NATS_PORT: u16 = 4222;
const EDGE_PORT: u16 = 8080;

/// What `cluster up` starts.
#[derive(Debug, Clone)]
pub struct Up {
    /// Where the state file, the logs and nats-server's store go.
    pub dir: PathBuf,
    pub edges: usize,
    pub agents: usize,
    /// Each process in its own network namespace.
    pub netns: bool,
    /// The feed's market (a new stream each `up`); `None` for the feed's defaults.
    pub symbols: Option<usize>,
    pub rate: Option<f64>,
    pub seed: Option<u64>,
    /// The `tickbench` executable the feed, edges and agents run.
    pub exe: PathBuf,
}

/// A short id for the namespace names, unique enough among the clusters of one machine.
fn new_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mix = nanos ^ (u64::from(std::process::id()) << 24);
    format!("{:06x}", (mix ^ (mix >> 24)) & 0xff_ffff)
}

/// Starts the cluster; its state once every process answered.
pub fn up(u: &Up) -> Result<State, Error> {
    if u.edges == 0 {
        return Err(Error::Launch("--edges must be at least 1".into()));
    }
    if u.netns && u.edges + u.agents + 3 > 250 {
        return Err(Error::Launch(format!(
            "--netns: at most 247 edges and agents in all on one /24 (asked {})",
            u.edges + u.agents
        )));
    }
    std::fs::create_dir_all(u.dir.join("logs"))
        .map_err(|e| Error::Launch(format!("cannot create {}: {e}", u.dir.display())))?;
    if let Some(old) = State::load(&u.dir)? {
        if old.phase != Phase::Down {
            return Err(Error::Launch(format!(
                "a cluster (id {}) is already {} in {}: run `tickbench cluster down --dir {}` first",
                old.id,
                if old.phase == Phase::Up { "up" } else { "starting" },
                u.dir.display(),
                u.dir.display()
            )));
        }
    }
    if u.netns {
        netns::check()?;
    }
    raise_nofile();
    let nats_bin = crate::broker::ensure_installed()?;
    // A new market each `up`: the store of an earlier cluster in DIR goes.
    let _ = std::fs::remove_dir_all(u.dir.join("nats-store"));
    let mut state = State {
        id: new_id(),
        dir: u.dir.clone(),
        phase: Phase::Starting,
        nats_url: None,
        net: None,
        procs: Vec::new(),
    };
    state.save()?;
    match start(&mut state, u, &nats_bin) {
        Ok(()) => {
            state.phase = Phase::Up;
            state.save()?;
            Ok(state)
        }
        Err(e) => {
            let _ = stop_all(&state);
            state.phase = Phase::Down;
            let _ = state.save();
            Err(e)
        }
    }
}

/// The host names on the bridge, in address order.
fn host_names(u: &Up) -> Vec<String> {
    let mut names = vec!["nats".to_string(), "feed".into(), "ctl".into()];
    names.extend((1..=u.edges).map(|i| format!("edge{i}")));
    names.extend((1..=u.agents).map(|i| format!("agent{i}")));
    names
}

/// Makes the namespaces: the bridge's, then one per host (`ctl` for the launcher's checks and
/// the user's commands).
fn make_net(state: &mut State, u: &Up) -> Result<(), Error> {
    let net = Net::new(&state.id);
    state.net = Some(NetState {
        bridge_ns: net.bridge_ns(),
        subnet: format!("{}.{}.{}.0/24", SUBNET[0], SUBNET[1], SUBNET[2]),
        hosts: Vec::new(),
    });
    state.save()?;
    net.create()?;
    for (i, name) in host_names(u).into_iter().enumerate() {
        let host = net.add_host(&name, 2 + i as u8)?;
        if let Some(n) = state.net.as_mut() {
            n.hosts.push(host);
        }
        state.save()?;
    }
    Ok(())
}

fn start(state: &mut State, u: &Up, nats_bin: &Path) -> Result<(), Error> {
    if u.netns {
        make_net(state, u)?;
    }
    let ns_of = |state: &State, name: &str| -> Option<String> {
        state
            .net
            .as_ref()
            .and_then(|n| n.host(name))
            .map(|h| h.ns.clone())
    };
    let ip_of = |state: &State, name: &str, loopback: Ipv4Addr| -> IpAddr {
        IpAddr::V4(state.host_addr(name).unwrap_or(loopback))
    };
    let log = |name: &str| u.dir.join("logs").join(format!("{name}.log"));
    let arg = |s: &str| OsString::from(s);

    // nats-server
    let ip = ip_of(state, "nats", Ipv4Addr::LOCALHOST);
    let port = if u.netns {
        NATS_PORT.to_string()
    } else {
        "-1".into()
    };
    let mut nats = spawn(Spec {
        name: "nats".into(),
        role: Role::Nats,
        program: nats_bin.to_path_buf(),
        args: vec![
            arg("-a"),
            arg(&ip.to_string()),
            arg("-p"),
            arg(&port),
            arg("-js"),
            arg("-sd"),
            u.dir.join("nats-store").into(),
        ],
        netns: ns_of(state, "nats"),
        log: log("nats"),
    })?;
    state.procs.push(nats.clone());
    state.save()?;
    ready::log_line(&nats, "Server is ready", READY)?;
    let line = ready::log_line(&nats, "Listening for client connections on", READY)?;
    let port: u16 = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| Error::Launch(format!("no port in nats-server's line {line:?}")))?;
    let url = format!("nats://{}", SocketAddr::new(ip, port));
    nats.url = Some(url.clone());
    state.procs[0] = nats;
    state.nats_url = Some(url.clone());
    state.save()?;

    // The feed
    let mut args = vec![arg("feed"), arg("--nats"), arg(&url), arg("--fresh")];
    if let Some(s) = u.symbols {
        args.extend([arg("--symbols"), arg(&s.to_string())]);
    }
    if let Some(r) = u.rate {
        args.extend([arg("--rate"), arg(&r.to_string())]);
    }
    if let Some(s) = u.seed {
        args.extend([arg("--seed"), arg(&s.to_string())]);
    }
    let feed = spawn(Spec {
        name: "feed".into(),
        role: Role::Feed,
        program: u.exe.clone(),
        args,
        netns: ns_of(state, "feed"),
        log: log("feed"),
    })?;
    state.procs.push(feed.clone());
    state.save()?;
    ready::log_line(&feed, "feeding ", READY)?;

    // The edges: each on its own loopback address (127.0.1.i, a free port), or its namespace's
    // address on port 8080.
    let mut edges = Vec::new();
    for i in 1..=u.edges {
        let name = format!("edge{i}");
        let ip = ip_of(state, &name, Ipv4Addr::new(127, 0, 1, i.min(254) as u8));
        let port = if u.netns { EDGE_PORT } else { 0 };
        let p = spawn(Spec {
            name: name.clone(),
            role: Role::Edge,
            program: u.exe.clone(),
            args: vec![
                arg("serve"),
                arg("--feed"),
                arg(&url),
                arg("--addr"),
                arg(&SocketAddr::new(ip, port).to_string()),
            ],
            netns: ns_of(state, &name),
            log: log(&name),
        })?;
        state.procs.push(p.clone());
        state.save()?;
        edges.push(p);
    }
    let mut addrs = Vec::new();
    for p in &edges {
        let line = ready::log_line(p, "listening on ", READY)?;
        let edge_url = line
            .split("listening on ")
            .nth(1)
            .unwrap_or_default()
            .trim()
            .to_string();
        let addr: SocketAddr = edge_url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .parse()
            .map_err(|_| Error::Launch(format!("{}: no address in {line:?}", p.name)))?;
        if let Some(s) = state.procs.iter_mut().find(|s| s.name == p.name) {
            s.url = Some(edge_url);
        }
        addrs.push((p.clone(), addr));
    }
    state.save()?;
    netns::run_in(state.ctl_ns().as_deref(), move || {
        addrs
            .iter()
            .try_for_each(|(p, addr)| ready::edge_answers(p, *addr, READY))
    })?;

    // The agents
    let mut agents: Vec<Proc> = Vec::new();
    for i in 1..=u.agents {
        let name = format!("agent{i}");
        let p = spawn(Spec {
            name: name.clone(),
            role: Role::Agent,
            program: u.exe.clone(),
            args: vec![
                arg("agent"),
                arg("--nats"),
                arg(&url),
                arg("--name"),
                arg(&name),
            ],
            netns: ns_of(state, &name),
            log: log(&name),
        })?;
        state.procs.push(p.clone());
        state.save()?;
        agents.push(p);
    }
    for p in &agents {
        ready::log_line(p, &format!("agent {} on", p.name), READY)?;
    }
    if !agents.is_empty() {
        let names: Vec<String> = agents.iter().map(|p| p.name.clone()).collect();
        netns::run_in(state.ctl_ns().as_deref(), move || {
            ready::agents_hello(&url, &names, READY)
        })?;
    }
    Ok(())
}
