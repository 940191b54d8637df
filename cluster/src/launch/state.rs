//! The launcher's state file, `DIR/cluster.json`: the cluster's id, whether it is up, and every
//! process it started (pid and start time, so a recycled pid is never taken for one of ours,
//! URL, namespace, log). Written after each step of `up` (so `down` can clean up a half-started
//! cluster) and rewritten by `down`.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::netns::Host;

/// The state file's name inside DIR.
pub const FILE: &str = "cluster.json";

/// Where the cluster stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// `up` is starting it (or died while it did: `down` cleans up).
    Starting,
    /// Every process answered.
    Up,
    /// `down` stopped every process and removed the namespaces.
    Down,
}

/// What a process is in the cluster, in start order (`down` stops them in reverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Nats,
    Feed,
    Edge,
    Agent,
}

/// One started process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proc {
    /// `nats`, `feed`, `edge1`, `agent1`, ...
    pub name: String,
    pub role: Role,
    pub pid: u32,
    /// Its start time in clock ticks since boot (`/proc/PID/stat` field 22): with the pid, the
    /// process's identity.
    pub start_time: u64,
    /// Where it listens (`nats://...`, `http://...`), once known.
    pub url: Option<String>,
    /// Its network namespace, with `--netns`.
    pub netns: Option<String>,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

impl Proc {
    /// Whether this very process still runs (not exited, not a zombie, pid not reused).
    pub fn alive(&self) -> bool {
        stat(self.pid).is_some_and(|(state, start)| start == self.start_time && state != 'Z')
    }
}

/// A pid's state letter and start time, from `/proc/PID/stat`.
pub fn stat(pid: u32) -> Option<(char, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields count from the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    // Field 3 was the state; the start time is field 22.
    let start = f.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// The cluster's namespaces (with `--netns`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetState {
    /// The bridge's namespace.
    pub bridge_ns: String,
    /// `10.213.0.0/24`
    pub subnet: String,
    /// Every host on the bridge, the control host (`ctl`) included.
    pub hosts: Vec<Host>,
}

impl NetState {
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The next free host address on the bridge.
    pub fn next_octet(&self) -> u8 {
        self.hosts
            .iter()
            .map(|h| h.addr.octets()[3])
            .max()
            .unwrap_or(1)
            .saturating_add(1)
    }
}

/// `DIR/cluster.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The cluster id every namespace name carries (`tb-<id>-...`).
    pub id: String,
    pub dir: PathBuf,
    pub phase: Phase,
    /// `nats://HOST:PORT`, once nats-server listens.
    pub nats_url: Option<String>,
    /// With `--netns`: the namespaces and addresses.
    pub net: Option<NetState>,
    /// In start order.
    pub procs: Vec<Proc>,
}

impl State {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(FILE)
    }

    /// The state in `dir`, `None` if there is none.
    pub fn load(dir: &Path) -> Result<Option<State>, Error> {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Launch(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Launch(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes the state (a temporary file renamed over the old one).
    pub fn save(&self) -> Result<(), Error> {
        let path = Self::path(&self.dir);
        let tmp = path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(self).unwrap_or_default();
        std::fs::write(&tmp, body)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| Error::Launch(format!("cannot write {}: {e}", path.display())))
    }

    pub fn edges(&self) -> impl Iterator<Item = &Proc> {
        self.procs.iter().filter(|p| p.role == Role::Edge)
    }

    pub fn agents(&self) -> impl Iterator<Item = &Proc> {
        self.procs.iter().filter(|p| p.role == Role::Agent)
    }

    /// The edges' URLs, in order.
    pub fn edge_urls(&self) -> Vec<String> {
        self.edges().filter_map(|p| p.url.clone()).collect()
    }

    /// The process named `name`.
    pub fn proc(&self, name: &str) -> Option<&Proc> {
        self.procs.iter().find(|p| p.name == name)
    }

    /// Where to run a driving command from: the control namespace with `--netns`.
    pub fn ctl_ns(&self) -> Option<String> {
        self.net
            .as_ref()
            .and_then(|n| n.host("ctl"))
            .map(|h| h.ns.clone())
    }

    /// The address of host `name` with `--netns`.
    pub fn host_addr(&self, name: &str) -> Option<Ipv4Addr> {
        self.net.as_ref()?.host(name).map(|h| h.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_wrong_start_time_is_not() {
        let (state, start) = stat(std::process::id()).unwrap();
        assert_ne!(state, 'Z');
        let mut p = Proc {
            name: "me".into(),
            role: Role::Edge,
            pid: std::process::id(),
            start_time: start,
            url: None,
            netns: None,
            log: PathBuf::new(),
        };
        assert!(p.alive());
        p.start_time += 1;
        assert!(!p.alive(), "a recycled pid is not ours");
    }
}
