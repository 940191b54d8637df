//! The peer servers a run can measure besides tickbench's own: installing them from Debian
//! packages when missing ([`install`]), starting nginx + Nchan or Pushpin on loopback under a
//! temporary prefix from the shipped configs (`peers/nchan/nginx.conf`, `peers/pushpin/`) with a
//! file limit for the client count ([`Peer`]), their processes' CPU and memory ([`procs`]), and
//! `tickbench peer start|stop` ([`cli`]).
//!
//! # Layout
//! - this file: [`Peer`], one started server, stopped (and its prefix removed) on drop.
//! - `opts`: [`PeerOpts`] and the file limit a server starts with.
//! - [`install`]: the idempotent, locked `apt-get` installer.
//! - `nginx`, `pushpin`: each server's config rendering and command line.
//! - [`procs`]: a process tree's CPU and RSS from `/proc`.
//! - [`cli`]: `tickbench peer start|stop` and the state file between them.

pub mod cli;
pub mod install;
mod nginx;
mod opts;
pub mod procs;
mod pushpin;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::procstat::ProcSample;
use crate::targets::{Target, TargetKind};
pub use opts::{file_limit_for, PeerOpts};

/// How long a peer may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A started peer: its processes run until this is dropped (or [`Peer::detach`]ed).
#[derive(Debug)]
pub struct Peer {
    pub kind: TargetKind,
    pub port: u16,
    pub publish_port: Option<u16>,
    pub backend_port: Option<u16>,
    child: Option<Child>,
    prefix: PathBuf,
}

impl Peer {
    /// Installs the packages if missing, renders the shipped config under a fresh temporary
    /// prefix and starts the server, waiting until it listens.
    pub fn start(kind: TargetKind, opts: &PeerOpts) -> Result<Peer, Error> {
        install::ensure(kind)?;
        let prefix = make_prefix(kind)?;
        let port = opts.port.map_or_else(free_port, Ok)?;
        let (publish_port, backend_port) = match kind {
            TargetKind::Pushpin => (
                Some(match opts.port {
                    Some(p) => p + 1,
                    None => free_port()?,
                }),
                Some(match (opts.backend_port, opts.port) {
                    (Some(b), _) => b,
                    (None, Some(p)) => p + 2,
                    (None, None) => free_port()?,
                }),
            ),
            TargetKind::Nchan | TargetKind::Tickbench => (None, None),
        };
        let mut cmd = match kind {
            TargetKind::Nchan => nginx::command(&prefix, port, opts)?,
            TargetKind::Pushpin => pushpin::command(
                &prefix,
                port,
                publish_port.unwrap_or(5561),
                backend_port.unwrap_or(0),
                opts,
            )?,
            TargetKind::Tickbench => {
                return Err(Error::Peer(
                    "tickbench is not a peer: `tickbench serve` starts it".into(),
                ))
            }
        };
        let log = std::fs::File::create(prefix.join("server.log"))
            .map_err(Error::os("creating the peer's log"))?;
        let log2 = log
            .try_clone()
            .map_err(Error::os("creating the peer's log"))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(Error::os(format!("starting {kind} ({cmd:?})")))?;
        let mut peer = Peer {
            kind,
            port,
            publish_port,
            backend_port,
            child: Some(child),
            prefix,
        };
        let mut ports = vec![port];
        ports.extend(publish_port);
        peer.wait_listening(&ports)?;
        Ok(peer)
    }

    fn wait_listening(&mut self, ports: &[u16]) -> Result<(), Error> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ports
                .iter()
                .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok())
            {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.prefix.join("server.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(8).collect();
                return Err(Error::Peer(format!(
                    "{} {} (log {}): {}",
                    self.kind,
                    match exited {
                        Some(s) => format!("exited before listening ({s})"),
                        None => format!("did not listen on {ports:?} within {START_TIMEOUT:?}"),
                    },
                    self.prefix.join("server.log").display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Where clients connect.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `--target` naming this peer.
    pub fn target(&self) -> Target {
        Target {
            kind: self.kind,
            url: self.url(),
            publish_port: self.publish_port,
            backend_port: self.backend_port,
        }
    }

    /// This peer as a `--target` argument (`pushpin+http://…?publish=P&backend=B`).
    pub fn target_arg(&self) -> String {
        match (self.publish_port, self.backend_port) {
            (Some(p), Some(b)) => format!("{}+{}?publish={p}&backend={b}", self.kind, self.url()),
            _ => format!("{}+{}", self.kind, self.url()),
        }
    }

    /// The server's root process (nginx master, Pushpin runner).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The root process and all its descendants (workers, Pushpin's services).
    pub fn pids(&self) -> Vec<u32> {
        procs::tree(self.pid())
    }

    /// CPU and RSS of all its processes.
    pub fn sample(&self) -> Option<ProcSample> {
        procs::sample_tree(self.pid(), &[])
    }

    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Leaves the server running past this value (for `tickbench peer start`): returns its pid
    /// and prefix, which `peer stop` removes.
    pub fn detach(mut self) -> (u32, PathBuf) {
        let pid = self.pid();
        self.child = None;
        (pid, std::mem::take(&mut self.prefix))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_pid(c.id());
            let _ = c.wait();
        }
        if !self.prefix.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.prefix);
        }
    }
}

/// SIGTERM, up to 5 s for the process to exit (it stops its own children), then SIGKILL to it
/// and any descendant left.
pub fn stop_pid(pid: u32) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let tree = procs::tree(pid);
    let p = Pid::from_raw(pid as i32);
    let _ = kill(p, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && procs::alive(pid) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for q in tree {
        if procs::alive(q) {
            let _ = kill(Pid::from_raw(q as i32), Signal::SIGKILL);
        }
    }
}

fn make_prefix(kind: TargetKind) -> Result<PathBuf, Error> {
    let base = std::env::temp_dir();
    for i in 0..1000u32 {
        let dir = base.join(format!("tickbench-{kind}-{}-{i}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err(Error::Peer(format!(
        "cannot create a prefix for {kind} under {}",
        base.display()
    )))
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> Result<u16, Error> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(Error::os("finding a free port on 127.0.0.1"))?;
    Ok(l.local_addr()
        .map_err(Error::os("finding a free port"))?
        .port())
}
