//! Helpers shared by the integration tests (`mod common;` in each): a recording [`Sink`], starting
//! a server and a client, and reading the server's journal. Not every test binary uses every item.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tickbench_loadgen::clients::{
    http_client, run_client, ClientConfig, ErrorKind, SeqOutcome, Sink,
};
use tickbench_server::{Config, ServerHandle};
use tickbench_wire::{Batch, Gap, Tick};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Everything a client reported.
#[allow(dead_code)]
#[derive(Debug, Default)]
pub struct Rec {
    pub ticks: Vec<(Tick, SeqOutcome)>,
    /// The gap notices.
    pub gaps: Vec<Gap>,
    pub errors: Vec<ErrorKind>,
    pub requests: u64,
    pub answers: u64,
    pub empty: u64,
    pub bytes: u64,
    pub reconnects: u64,
    pub lags: u64,
    pub lag_max_us: u64,
    pub up: bool,
    pub ups: u64,
}

#[allow(dead_code)]
impl Rec {
    /// The seqs received, in order.
    pub fn seqs(&self) -> Vec<u64> {
        self.ticks.iter().map(|(t, _)| t.seq).collect()
    }

    /// The seq of the last tick received (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.ticks.last().map_or(0, |(t, _)| t.seq)
    }

    /// Ticks missing without a notice, summed over the silent gaps.
    pub fn silent_gaps(&self) -> u64 {
        self.ticks
            .iter()
            .map(|(_, o)| match o {
                SeqOutcome::Gap(n) => *n,
                _ => 0,
            })
            .sum()
    }

    /// Ticks received again or out of order.
    pub fn dups(&self) -> u64 {
        self.ticks
            .iter()
            .filter(|(_, o)| matches!(o, SeqOutcome::Duplicate | SeqOutcome::OutOfOrder))
            .count() as u64
    }
}

/// A sink recording into a shared [`Rec`]. [`RecSink::checked`] also asserts, as it records,
/// that no tick arrives before it was scheduled and that `connected` alternates.
#[allow(dead_code)]
#[derive(Debug, Clone, Default)]
pub struct RecSink(pub Arc<Mutex<Rec>>, bool);

impl Sink for RecSink {
    fn request(&self) {
        self.0.lock().unwrap().requests += 1;
    }
    fn answer(&self, ticks: usize) {
        let mut r = self.0.lock().unwrap();
        r.answers += 1;
        r.empty += (ticks == 0) as u64;
    }
    fn bytes(&self, n: u64) {
        self.0.lock().unwrap().bytes += n;
    }
    fn tick(&self, tick: &Tick, recv_us: u64, outcome: SeqOutcome) {
        if self.1 {
            assert!(recv_us >= tick.ts, "received before scheduled");
        }
        self.0.lock().unwrap().ticks.push((tick.clone(), outcome));
    }
    fn gap_notice(&self, gap: Gap) {
        self.0.lock().unwrap().gaps.push(gap);
    }
    fn error(&self, kind: ErrorKind) {
        self.0.lock().unwrap().errors.push(kind);
    }
    fn reconnect(&self) {
        self.0.lock().unwrap().reconnects += 1;
    }
    fn schedule_lag(&self, lag_us: u64) {
        let mut r = self.0.lock().unwrap();
        r.lags += 1;
        r.lag_max_us = r.lag_max_us.max(lag_us);
    }
    fn connected(&self, up: bool) {
        let mut r = self.0.lock().unwrap();
        if self.1 {
            assert_ne!(r.up, up, "connected({up}) twice in a row");
        }
        r.up = up;
        r.ups += up as u64;
    }
}

#[allow(dead_code)]
impl RecSink {
    /// A sink that also checks tick timestamps and `connected` transitions as it records.
    pub fn checked() -> RecSink {
        RecSink(Arc::default(), true)
    }

    /// Everything recorded so far (owned, so no lock is held across an await).
    /// The connection state carries over: the client is still running.
    pub fn take(&self) -> Rec {
        let mut r = self.0.lock().unwrap();
        let up = r.up;
        let rec = std::mem::take(&mut *r);
        r.up = up;
        rec
    }

    pub fn count(&self) -> usize {
        self.0.lock().unwrap().ticks.len()
    }

    /// Waits until `n` ticks arrived (or fails after a generous bound).
    pub async fn wait_ticks(&self, n: usize) {
        self.wait_ticks_within(n, Duration::from_secs(10), "timed out")
            .await;
    }

    /// Waits until `n` ticks arrived, failing as `what` after `limit`.
    pub async fn wait_ticks_within(&self, n: usize, limit: Duration, what: &str) {
        let t0 = std::time::Instant::now();
        while self.count() < n {
            assert!(
                t0.elapsed() < limit,
                "{what}: {} of {n} ticks, errors {:?}",
                self.count(),
                self.0.lock().unwrap().errors
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_connected(&self) {
        self.wait_up(true).await;
    }

    pub async fn wait_up(&self, up: bool) {
        let t0 = std::time::Instant::now();
        while self.0.lock().unwrap().up != up {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "never connected({up})"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Runs a client with `cfg` recording into `sink` until `cancel`.
#[allow(dead_code)]
pub fn spawn_client(
    cfg: ClientConfig,
    sink: &RecSink,
    cancel: &CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(run_client(
        cfg,
        http_client(None),
        sink.clone(),
        cancel.clone(),
    ))
}

/// A server on a free loopback port.
#[allow(dead_code)]
pub async fn spawn_server(cfg: Config) -> ServerHandle {
    tickbench_server::spawn(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Every tick the server holds, in order (the ground truth).
#[allow(dead_code)]
pub async fn journal(base: &str) -> Vec<Tick> {
    let b: Batch = reqwest::get(format!("{base}/poll?since=0&limit=100000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    b.ticks
}
