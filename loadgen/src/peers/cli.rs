//! `tickbench peer start nchan|pushpin [--port] [--workers] [--clients]` and `tickbench peer stop`:
//! a peer started for measuring by hand (`tickbench run --target nchan+http://…`). `start` leaves
//! the server running and records its pid and prefix in a state file under the temp folder;
//! `stop` stops it and removes both.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{file_limit_for, stop_pid, Peer, PeerOpts};
use crate::error::Error;
use crate::targets::TargetKind;

/// `tickbench peer` options.
#[derive(Debug, Clone, clap::Args)]
pub struct PeerCli {
    #[command(subcommand)]
    pub command: PeerCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum PeerCommand {
    /// Install (if missing) and start nginx + Nchan or Pushpin on 127.0.0.1; prints its
    /// `--target`, URL and pids.
    Start {
        /// nchan or pushpin.
        #[arg(value_parser = parse_peer)]
        kind: TargetKind,
        /// Client port (default: a free one). Pushpin also uses port+1 (publish) and routes to
        /// port+2 (where `tickbench run` serves GRIP).
        #[arg(long)]
        port: Option<u16>,
        /// nginx worker processes.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// Clients the server must hold (sets its open-file limit).
        #[arg(long, default_value_t = 10_000)]
        clients: u64,
    },
    /// Stop a peer started with `peer start` (both when no kind is given).
    Stop {
        #[arg(value_parser = parse_peer)]
        kind: Option<TargetKind>,
    },
}

fn parse_peer(s: &str) -> Result<TargetKind, String> {
    match s.parse::<TargetKind>()? {
        TargetKind::Tickbench => Err("tickbench is not a peer; use `tickbench serve`".into()),
        k => Ok(k),
    }
}

/// What `start` leaves for `stop`.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    kind: TargetKind,
    target: String,
    pid: u32,
    prefix: PathBuf,
}

fn state_file(kind: TargetKind) -> PathBuf {
    std::env::temp_dir().join(format!("tickbench-peer-{kind}.json"))
}

/// Runs `tickbench peer …`.
pub fn run(cli: PeerCli) -> Result<(), Error> {
    match cli.command {
        PeerCommand::Start {
            kind,
            port,
            workers,
            clients,
        } => {
            if state_file(kind).exists() {
                return Err(Error::Peer(format!(
                    "a {kind} peer is already running (see {}); `tickbench peer stop {kind}` first",
                    state_file(kind).display()
                )));
            }
            let opts = PeerOpts {
                port,
                workers,
                nofile: file_limit_for(clients),
                backend_port: None,
            };
            let peer = Peer::start(kind, &opts)?;
            let target = match kind {
                TargetKind::Pushpin => format!(
                    "pushpin+{}?publish={}&backend={}",
                    peer.url(),
                    peer.publish_port.unwrap_or(0),
                    peer.backend_port.unwrap_or(0)
                ),
                TargetKind::Nchan | TargetKind::Tickbench => format!("{kind}+{}", peer.url()),
            };
            let pids = peer.pids();
            println!("url {}", peer.url());
            println!("target {target}");
            println!(
                "pids {}",
                pids.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            println!("prefix {}", peer.prefix().display());
            let (pid, prefix) = peer.detach();
            let state = State {
                kind,
                target,
                pid,
                prefix,
            };
            std::fs::write(
                state_file(kind),
                serde_json::to_string(&state).unwrap_or_default(),
            )
            .map_err(Error::os("writing the peer state file"))?;
            Ok(())
        }
        PeerCommand::Stop { kind } => {
            let kinds = match kind {
                Some(k) => vec![k],
                None => vec![TargetKind::Nchan, TargetKind::Pushpin],
            };
            let mut stopped = 0;
            for k in kinds {
                let path = state_file(k);
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if let Ok(s) = serde_json::from_str::<State>(&text) {
                    stop_pid(s.pid);
                    let _ = std::fs::remove_dir_all(&s.prefix);
                    println!("stopped {k} (pid {})", s.pid);
                    stopped += 1;
                }
                let _ = std::fs::remove_file(&path);
            }
            if stopped == 0 {
                return Err(Error::Peer(
                    "no peer started with `tickbench peer start` is running".into(),
                ));
            }
            Ok(())
        }
    }
}

/// The root pid of the peer `peer start` left running at `target`'s URL, if any.
pub fn pid_of(target: &crate::targets::Target) -> Option<u32> {
    let text = std::fs::read_to_string(state_file(target.kind)).ok()?;
    let s: State = serde_json::from_str(&text).ok()?;
    (s.target.contains(&target.url) && super::procs::alive(s.pid)).then_some(s.pid)
}
