//! The fan-out floor in a process of its own, when its server side would not fit beside the
//! clients in the load generator's.
//!
//! The floor's server side holds one socket per client. In the load generator's process that is
//! a second descriptor per client, and with a per-process cap of 20,000 the floor stopped at
//! 9,872 clients. Above what the limit allows, the floor runs as `tickbench fanout-floor` (a
//! hidden subcommand, the same [`FanoutFloor`] threads), which reports its CPU (the sum of its
//! threads', as in-process) and its next seq on stdout every 100 ms; it exits when its stdin
//! closes, so a load generator that dies leaves no orphan. Below the limit it stays in-process:
//! no process start, and the tests need no binary.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tickbench_wire::Transport;

use super::{FanoutConfig, FanoutFloor};

/// How often the child reports.
const REPORT_EVERY: Duration = Duration::from_millis(100);
/// How long the child has to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running fan-out floor, here or in its own process.
#[derive(Debug)]
pub enum Floor {
    Here(FanoutFloor),
    Child(ChildFloor),
}

impl Floor {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        match self {
            Floor::Here(f) => f.url(),
            Floor::Child(c) => c.url.clone(),
        }
    }

    /// CPU time of the floor's threads so far.
    pub fn cpu(&self) -> Duration {
        match self {
            Floor::Here(f) => f.cpu(),
            Floor::Child(c) => Duration::from_nanos(c.stats.cpu_ns.load(Ordering::Relaxed)),
        }
    }

    /// The seq the next tick gets.
    pub fn next_seq(&self) -> u64 {
        match self {
            Floor::Here(f) => f.next_seq(),
            Floor::Child(c) => c.stats.next.load(Ordering::Relaxed),
        }
    }

    /// Whether its CPU is part of this process's (and must be taken out of the load
    /// generator's).
    pub fn in_process(&self) -> bool {
        matches!(self, Floor::Here(_))
    }
}

#[derive(Debug, Default)]
struct Stats {
    cpu_ns: AtomicU64,
    next: AtomicU64,
}

/// The floor as a child process; stopped (stdin closed, then killed if it lingers) on drop.
#[derive(Debug)]
pub struct ChildFloor {
    child: Child,
    url: String,
    stats: Arc<Stats>,
    reader: Option<JoinHandle<()>>,
}

impl ChildFloor {
    /// Starts `exe fanout-floor` for `cfg` and waits for its address.
    pub fn start(exe: &Path, cfg: &FanoutConfig) -> std::io::Result<ChildFloor> {
        let mut child = Command::new(exe)
            .arg("fanout-floor")
            .args(["--transport", cfg.transport.name()])
            .args(["--symbols", &cfg.symbols.to_string()])
            .args(["--seed", &cfg.seed.to_string()])
            .args(["--rate", &cfg.rate.to_string()])
            .args(["--writers", &cfg.writers.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stats = Arc::new(Stats::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let st = stats.clone();
        let reader = std::thread::Builder::new()
            .name("floor-child-stats".into())
            .spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(url) = crate::child::parse_listening(&line) {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(url);
                        }
                    } else if let Some(rest) = line.strip_prefix("stats ") {
                        let mut f = rest.split(' ').map(|v| v.parse::<u64>().ok());
                        if let (Some(Some(cpu)), Some(Some(next))) = (f.next(), f.next()) {
                            st.cpu_ns.store(cpu, Ordering::Relaxed);
                            st.next.store(next, Ordering::Relaxed);
                        }
                    }
                }
            })?;
        let mut floor = ChildFloor {
            child,
            url: String::new(),
            stats,
            reader: Some(reader),
        };
        floor.url = rx.recv_timeout(START_TIMEOUT).map_err(|_| {
            std::io::Error::other(format!(
                "`{} fanout-floor` did not say where it listens within {START_TIMEOUT:?}",
                exe.display()
            ))
        })?;
        Ok(floor)
    }
}

impl Drop for ChildFloor {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) {
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// `tickbench fanout-floor`: the floor's side of [`ChildFloor`] (hidden; started by `run`).
#[derive(Debug, Clone, clap::Args)]
pub struct FloorOpts {
    /// The streaming transport whose format and path it serves.
    #[arg(long)]
    pub transport: Transport,
    #[arg(long)]
    pub symbols: usize,
    #[arg(long)]
    pub seed: u64,
    #[arg(long)]
    pub rate: f64,
    /// Writer threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub writers: usize,
}

/// Runs the floor until stdin closes, printing `listening on URL`, then `stats CPU_NS NEXT`
/// every 100 ms.
pub fn serve(o: FloorOpts) -> std::io::Result<()> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    // All its descriptors are the clients' sockets: as many as the hard limit allows.
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
    let floor = FanoutFloor::start(FanoutConfig {
        transport: o.transport,
        symbols: o.symbols,
        seed: o.seed,
        rate: o.rate,
        writers: o.writers,
    })?;
    let closed = Arc::new(AtomicBool::new(false));
    let c = closed.clone();
    std::thread::Builder::new()
        .name("floor-stdin".into())
        .spawn(move || {
            let mut sink = [0u8; 64];
            let mut stdin = std::io::stdin().lock();
            while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
            c.store(true, Ordering::Relaxed);
        })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", floor.url())?;
    out.flush()?;
    while !closed.load(Ordering::Relaxed) {
        std::thread::sleep(REPORT_EVERY);
        let line = format!("stats {} {}\n", floor.cpu().as_nanos(), floor.next_seq());
        if out
            .write_all(line.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
    Ok(())
}
