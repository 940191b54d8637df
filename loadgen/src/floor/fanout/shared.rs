//! What the fan-out floor's threads share: the stop flag, each thread's CPU and the counters.

use std::sync::atomic::{AtomicBool, AtomicU64};

/// One thread's CPU time so far (`getrusage(RUSAGE_THREAD)`, user + system), ns.
pub fn thread_cpu_ns() -> u64 {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_THREAD)
        .map(|u| {
            let t = |tv: nix::sys::time::TimeVal| {
                tv.tv_sec() as u64 * 1_000_000_000 + tv.tv_usec() as u64 * 1_000
            };
            t(u.user_time()) + t(u.system_time())
        })
        .unwrap_or(0)
}

/// What the threads share.
#[derive(Debug)]
pub struct Shared {
    pub stop: AtomicBool,
    /// CPU ns of each thread: generator, acceptor, then the writers.
    pub cpu_ns: Vec<AtomicU64>,
    /// Seq the next tick gets.
    pub next: AtomicU64,
    /// Deliveries written (whole or into a backlog).
    pub deliveries: AtomicU64,
    /// Deliveries that went (at least partly) into a backlog: their socket was full.
    pub stalls: AtomicU64,
    /// Connections closed because they stopped reading or failed.
    pub dropped: AtomicU64,
}

impl Shared {
    pub fn new(threads: usize) -> Shared {
        Shared {
            stop: AtomicBool::new(false),
            cpu_ns: (0..threads).map(|_| AtomicU64::new(0)).collect(),
            next: AtomicU64::new(1),
            deliveries: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }
}
