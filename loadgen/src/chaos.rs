//! `--chaos`: a small loopback TCP proxy the run puts between its clients and the server, which
//! injects faults into live connections at a given rate: resets (RST), stalls (forwarding stops
//! for a while) and cuts (half of the next server→client chunk, then close). Server restarts are
//! driven by the run (it owns the server process) and counted here too.
//!
//! A proxy rather than a server option, so the same faults can be injected in front of any
//! `--target`, and the server under test carries no fault code. Its cost is inside the load
//! generator process: every client byte is copied once more, and each client holds two more
//! sockets (the proxy's accepted side and its upstream side). It runs on its own runtime threads
//! so it does not steal the workers' event loops, and its CPU shows up in the load generator's.
//!
//! Fault selection is seeded: once per second, every live connection (in accept order) draws one
//! uniform number against the cumulative reset/stall/cut rates.
//!
//! # Restarts: why the journal "survives"
//! `restart=` stops the embedded server with SIGTERM (its streams say `bye`) and starts it again
//! on the same port with the same `--seed`, `--rate`, `--symbols` and `--epoch-us` (the run's time
//! origin, fixed when the first server started). The new process replays the seeded market from
//! the epoch and refills its retained window before it listens, so it serves the very same ticks
//! (same `seq`, `sseq`, prices, `ts`): the clients resume by cursor with no gap and no duplicate,
//! and the ticks due while it was down arrive late, as latency. Replay rather than persisting the
//! journal: no disk format or fsync policy, and it also produces the downtime's ticks exactly. The
//! proxy keeps accepting meanwhile; connections opened while the server is down are closed at once
//! (counted as `chaos_upstream_refused`) and the clients back off and retry.
//!
//! # What is counted
//! Per phase, in `TransportSummary::extra` (measured window only): `chaos_resets`, `chaos_stalls`,
//! `chaos_cuts` (when applied, not when drawn), `chaos_restarts`, `chaos_connections`,
//! `chaos_upstream_refused`, `chaos_faults_per_s`, `reconnects_per_s`; recovery shows as
//! `reconnects`, and any loss stays in `gaps`/`duplicates`/`out_of_order` (a gap the server
//! declares is `gap_notices`, never hidden).
//!
//! # Layout
//! - [`spec`]: the `--chaos` string ([`ChaosSpec`]).
//! - [`ChaosProxy`]: listener, per-connection forwarding, the fault ticker, and [`ChaosCounts`].

pub mod spec;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::Error;

pub use spec::ChaosSpec;

/// Forwarding buffer per direction per connection: small, since there are thousands of them and
/// tick messages are a few hundred bytes.
const BUF: usize = 8 * 1024;

/// A fault applied to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close both sides abruptly (SO_LINGER 0: the peers see a reset, not a clean end).
    Reset,
    /// Stop forwarding in both directions for this long.
    Stall(Duration),
    /// Forward half of the next server→client chunk, then close both sides.
    Cut,
}

/// Faults injected and connections seen since the proxy started. Monotonic: take differences.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChaosCounts {
    pub connections: u64,
    pub resets: u64,
    pub stalls: u64,
    pub cuts: u64,
    pub restarts: u64,
    /// Accepted connections whose upstream connect failed (the server was down).
    pub upstream_refused: u64,
}

impl ChaosCounts {
    /// `self − earlier`, field by field.
    pub fn since(&self, earlier: &ChaosCounts) -> ChaosCounts {
        ChaosCounts {
            connections: self.connections.saturating_sub(earlier.connections),
            resets: self.resets.saturating_sub(earlier.resets),
            stalls: self.stalls.saturating_sub(earlier.stalls),
            cuts: self.cuts.saturating_sub(earlier.cuts),
            restarts: self.restarts.saturating_sub(earlier.restarts),
            upstream_refused: self
                .upstream_refused
                .saturating_sub(earlier.upstream_refused),
        }
    }

    /// Adds `o` into `self`.
    pub fn add(&mut self, o: &ChaosCounts) {
        self.connections += o.connections;
        self.resets += o.resets;
        self.stalls += o.stalls;
        self.cuts += o.cuts;
        self.restarts += o.restarts;
        self.upstream_refused += o.upstream_refused;
    }

    /// Faults of every kind.
    pub fn faults(&self) -> u64 {
        self.resets + self.stalls + self.cuts + self.restarts
    }
}

/// The shared counters (atomics: connection tasks run on several runtime threads).
#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    resets: AtomicU64,
    stalls: AtomicU64,
    cuts: AtomicU64,
    restarts: AtomicU64,
    upstream_refused: AtomicU64,
}

/// Live connections by accept number, each with the channel its faults arrive on. A `BTreeMap`
/// so the seeded draw visits them in a reproducible order; a `std` mutex because it is held only
/// for inserts, removes and one pass of `try_send`s, never across an `.await`.
type Registry = Arc<Mutex<BTreeMap<u64, mpsc::Sender<Fault>>>>;

/// A running chaos proxy. Dropping it stops the proxy and closes every connection through it.
#[derive(Debug)]
pub struct ChaosProxy {
    addr: SocketAddr,
    counters: Arc<Counters>,
    registry: Registry,
    cancel: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl ChaosProxy {
    /// Listens on `127.0.0.1:0` and forwards every connection to `upstream`, injecting `spec`'s
    /// connection faults with an RNG seeded by `seed`. Runs on its own runtime (`threads` worker
    /// threads), so it can be started from sync code and from inside another runtime alike.
    pub fn start(
        upstream: SocketAddr,
        spec: ChaosSpec,
        seed: u64,
        threads: usize,
    ) -> Result<ChaosProxy, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("chaos-proxy")
            .enable_all()
            .build()
            .map_err(Error::os("building the chaos proxy runtime"))?;
        let bind = || {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.set_nonblocking(true)?;
            let addr = l.local_addr()?;
            Ok((l, addr))
        };
        let (std_listener, addr) = bind().map_err(Error::os("binding the chaos proxy"))?;
        let counters = Arc::new(Counters::default());
        let registry: Registry = Arc::default();
        let cancel = CancellationToken::new();
        let (c2, r2, k2) = (counters.clone(), registry.clone(), cancel.clone());
        let thread = std::thread::Builder::new()
            .name("chaos-proxy".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("chaos proxy listener: {e}");
                            return;
                        }
                    };
                    let ticker = tokio::spawn(fault_ticker(spec, seed, r2.clone(), k2.clone()));
                    accept_loop(listener, upstream, c2, r2, k2).await;
                    ticker.abort();
                });
                // Dropping the runtime here ends every connection task: their sockets close.
                rt.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(Error::os("spawning the chaos proxy thread"))?;
        Ok(ChaosProxy {
            addr,
            counters,
            registry,
            cancel,
            thread: Some(thread),
        })
    }

    /// Where clients connect instead of the server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The counts so far.
    pub fn counts(&self) -> ChaosCounts {
        let c = &self.counters;
        ChaosCounts {
            connections: c.connections.load(Ordering::Relaxed),
            resets: c.resets.load(Ordering::Relaxed),
            stalls: c.stalls.load(Ordering::Relaxed),
            cuts: c.cuts.load(Ordering::Relaxed),
            restarts: c.restarts.load(Ordering::Relaxed),
            upstream_refused: c.upstream_refused.load(Ordering::Relaxed),
        }
    }

    /// Counts one server restart (the run performs it; the proxy only reports it).
    pub fn count_restart(&self) {
        self.counters.restarts.fetch_add(1, Ordering::Relaxed);
    }

    /// Live connections right now.
    pub fn live(&self) -> usize {
        self.registry.lock().map_or(0, |r| r.len())
    }

    /// Applies `fault` to every live connection now (tests, and a deterministic way to show a
    /// fault's effect). Returns how many connections it was sent to.
    pub fn inject_all(&self, fault: Fault) -> usize {
        let Ok(reg) = self.registry.lock() else {
            return 0;
        };
        reg.values().filter(|tx| tx.try_send(fault).is_ok()).count()
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    counters: Arc<Counters>,
    registry: Registry,
    cancel: CancellationToken,
) {
    let mut next_id = 0u64;
    loop {
        let down = tokio::select! {
            _ = cancel.cancelled() => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // EMFILE and friends: back off a little rather than spin.
                    tracing::warn!("chaos proxy accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        next_id += 1;
        let id = next_id;
        counters.connections.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(4);
        if let Ok(mut reg) = registry.lock() {
            reg.insert(id, tx);
        }
        let (counters, registry) = (counters.clone(), registry.clone());
        tokio::spawn(async move {
            forward(down, upstream, rx, &counters).await;
            if let Ok(mut reg) = registry.lock() {
                reg.remove(&id);
            }
        });
    }
}

/// Once per second, draws a fault (or none) for every live connection.
async fn fault_ticker(spec: ChaosSpec, seed: u64, registry: Registry, cancel: CancellationToken) {
    if !spec.has_connection_faults() {
        return;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x4348_414f_5321);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Ok(reg) = registry.lock() else { return };
        for tx in reg.values() {
            let u: f64 = rng.random();
            let fault = if u < spec.reset {
                Fault::Reset
            } else if u < spec.reset + spec.stall {
                Fault::Stall(spec.stall_for)
            } else if u < spec.reset + spec.stall + spec.cut {
                Fault::Cut
            } else {
                continue;
            };
            // A full channel means the connection is busy with earlier faults: skip it.
            let _ = tx.try_send(fault);
        }
    }
}

/// Forwards one connection both ways until either side closes or a fault ends it.
async fn forward(
    down: TcpStream,
    upstream: SocketAddr,
    mut faults: mpsc::Receiver<Fault>,
    counters: &Counters,
) {
    let up = match TcpStream::connect(upstream).await {
        Ok(s) => s,
        Err(_) => {
            // The server is down (restarting): the client sees its connection closed and retries.
            counters.upstream_refused.fetch_add(1, Ordering::Relaxed);
            let _ = down.set_zero_linger();
            return;
        }
    };
    let _ = up.set_nodelay(true);
    let _ = down.set_nodelay(true);
    let (mut down_r, mut down_w) = down.into_split();
    let (mut up_r, mut up_w) = up.into_split();
    let mut to_up = vec![0u8; BUF];
    let mut to_down = vec![0u8; BUF];
    let mut cut_pending = false;
    loop {
        tokio::select! {
            f = faults.recv() => match f {
                None => break,
                Some(Fault::Reset) => {
                    counters.resets.fetch_add(1, Ordering::Relaxed);
                    reset(down_r, down_w, up_r, up_w);
                    return;
                }
                Some(Fault::Stall(d)) => {
                    counters.stalls.fetch_add(1, Ordering::Relaxed);
                    // Nothing is read while stalled: both peers' sends pile up in the kernel.
                    tokio::time::sleep(d).await;
                }
                Some(Fault::Cut) => cut_pending = true,
            },
            r = down_r.read(&mut to_up) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => if up_w.write_all(&to_up[..n]).await.is_err() { break },
            },
            r = up_r.read(&mut to_down) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) if cut_pending => {
                    counters.cuts.fetch_add(1, Ordering::Relaxed);
                    let half = (n / 2).max(1).min(n);
                    let _ = down_w.write_all(&to_down[..half]).await;
                    let _ = down_w.flush().await;
                    reset(down_r, down_w, up_r, up_w);
                    return;
                }
                Ok(n) => if down_w.write_all(&to_down[..n]).await.is_err() { break },
            },
        }
    }
    // A normal end: close both sides cleanly (dropping the halves closes the sockets).
}

/// Reassembles both sockets and drops them with SO_LINGER 0, so the peers see a reset.
fn reset(
    down_r: tokio::net::tcp::OwnedReadHalf,
    down_w: tokio::net::tcp::OwnedWriteHalf,
    up_r: tokio::net::tcp::OwnedReadHalf,
    up_w: tokio::net::tcp::OwnedWriteHalf,
) {
    for s in [down_r.reunite(down_w), up_r.reunite(up_w)]
        .into_iter()
        .flatten()
    {
        let _ = s.set_zero_linger();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_subtract_and_add() {
        let a = ChaosCounts {
            connections: 10,
            resets: 3,
            stalls: 2,
            cuts: 1,
            restarts: 1,
            upstream_refused: 4,
        };
        let d = a.since(&ChaosCounts {
            connections: 4,
            resets: 1,
            ..Default::default()
        });
        assert_eq!((d.connections, d.resets, d.faults()), (6, 2, 6));
        let mut s = ChaosCounts::default();
        s.add(&d);
        s.add(&d);
        assert_eq!(s.resets, 4);
    }
}
