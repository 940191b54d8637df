//! Starting one cluster process detached: its own session (util-linux `setsid`, which execs in
//! place, so the pid is the process's; without it, its own process group), stdin from
//! /dev/null, stdout and stderr appended to its log, inside its namespace with `--netns`
//! (`ip netns exec NS`, which also execs in place), and the file limit raised to the hard limit
//! first (children inherit it). Stopping: SIGTERM to its process group, SIGKILL after a timeout.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::state::{stat, Proc, Role};
use crate::error::Error;

/// What to start.
#[derive(Debug)]
pub struct Spec {
    pub name: String,
    pub role: Role,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The namespace to run in (`--netns`).
    pub netns: Option<String>,
    pub log: PathBuf,
}

/// Raises this process's RLIMIT_NOFILE soft limit to its hard limit (inherited by every process
/// started after); returns the limit now in force.
pub fn raise_nofile() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => {
            if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            "/usr/bin".into(),
            "/bin".into(),
            "/usr/sbin".into(),
            "/sbin".into(),
        ])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Starts `spec` detached; the process as the state records it.
pub fn spawn(spec: Spec) -> Result<Proc, Error> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log)
        .map_err(|e| Error::Launch(format!("cannot open {}: {e}", spec.log.display())))?;
    let err_log = log
        .try_clone()
        .map_err(|e| Error::Launch(format!("{}: {e}", spec.log.display())))?;
    let mut argv: Vec<OsString> = Vec::new();
    if let Some(ns) = &spec.netns {
        let ip = on_path("ip").ok_or_else(|| Error::Netns(crate::netns::NEEDS.into()))?;
        argv.extend([ip.into(), "netns".into(), "exec".into(), ns.into()]);
    }
    argv.push(spec.program.clone().into());
    argv.extend(spec.args.iter().cloned());
    let mut cmd = match on_path("setsid") {
        Some(setsid) => {
            let mut c = Command::new(setsid);
            c.args(&argv);
            c
        }
        None => {
            use std::os::unix::process::CommandExt as _;
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]).process_group(0);
            c
        }
    };
    let child = cmd
        .stdin(Stdio::null())
        // Plain logs in the files.
        .env("NO_COLOR", "1")
        .stdout(log)
        .stderr(err_log)
        .spawn()
        .map_err(|e| Error::Launch(format!("cannot start {}: {e}", spec.name)))?;
    let pid = child.id();
    // Not waited for: it outlives the launcher (a child that dies while `up` waits is a zombie
    // until `up` exits, and [`Proc::alive`] says it is dead).
    drop(child);
    let start_time = stat(pid).map(|(_, t)| t).unwrap_or(0);
    Ok(Proc {
        name: spec.name,
        role: spec.role,
        pid,
        start_time,
        url: None,
        netns: spec.netns,
        log: spec.log,
    })
}

/// Stops `procs` together: SIGTERM to each one's process group, then SIGKILL to those still
/// alive after `grace`. Returns once none of them is alive (or after the SIGKILL wait).
pub fn stop(procs: &[&Proc], grace: Duration) {
    let signal_all = |sig: Signal| {
        for p in procs.iter().filter(|p| p.alive()) {
            let pid = Pid::from_raw(p.pid as i32);
            // Its process group when it leads one (its own session), else the process.
            if kill(Pid::from_raw(-(p.pid as i32)), sig).is_err() {
                let _ = kill(pid, sig);
            }
        }
    };
    let wait = |limit: Duration| {
        let t0 = Instant::now();
        loop {
            procs.iter().for_each(|p| reap(p.pid));
            if procs.iter().all(|p| !p.alive()) || t0.elapsed() > limit {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    signal_all(Signal::SIGTERM);
    wait(grace);
    if procs.iter().any(|p| p.alive()) {
        signal_all(Signal::SIGKILL);
        wait(Duration::from_secs(5));
    }
}

/// Reaps `pid` if it is an exited child of this process (when `down` runs in the process that
/// ran `up`), so it is not left a zombie; nothing for anyone else's process.
fn reap(pid: u32) {
    use nix::sys::wait::{waitpid, WaitPidFlag};
    let _ = waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG));
}

/// The last `n` lines of `log`, joined with ` | ` (for an error about the process).
pub fn tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}
