//! Turns the market's random walk into published ticks: the paced generator thread, and the
//! on-demand [`Producer::publish_now`] tests use.
//!
//! The generator runs on its own OS thread, not a tokio task: tokio's timer has 1 ms granularity,
//! while latency benchmarks compare against a loopback floor of tens of µs. The thread sleeps with
//! `std::thread::sleep` (an hrtimer; timer slack is set to 1 ns where the kernel allows) until the
//! next tick's scheduled time, then produces every tick whose time has passed in one batch and
//! publishes that batch once, so at high rates it batches instead of falling behind one wake-up
//! at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tickbench_wire::now_micros;

use crate::journal::{encode_tick, Encoded, Journal};
use crate::market::{Market, RawTick, Universe};
use crate::metrics::Metrics;

/// Most ticks one generator wake-up publishes as a batch, so readers see progress even when
/// the generator is far behind.
const MAX_BATCH: usize = 16_384;
/// Simulated time one `publish_now` tick advances the market by (tests run with rate 0).
const NOMINAL_DT_S: f64 = 0.01;
/// Longest single sleep, so the thread notices shutdown promptly at low rates.
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// The only writer of the journal: the market plus the sequence counters. Behind a mutex
/// shared by the generator thread and [`crate::ServerHandle::publish`], which keeps seqs dense
/// and in order whoever publishes.
pub struct Producer {
    market: Market,
    universe: Arc<Universe>,
    journal: Arc<Journal>,
    /// Per-symbol tick counter (`sseq` of the symbol's latest tick).
    sseq: Vec<u64>,
    next_seq: u64,
    buf: Vec<u8>,
}

impl Producer {
    pub fn new(market: Market, universe: Arc<Universe>, journal: Arc<Journal>) -> Producer {
        let n = universe.len();
        Producer {
            market,
            universe,
            journal,
            sseq: vec![0; n],
            next_seq: 1,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Encodes a batch once (one allocation shared by every tick's `Bytes`) and appends it.
    fn publish(&mut self, raws: &[(u64, RawTick)]) -> u64 {
        self.buf.clear();
        let mut spans = Vec::with_capacity(raws.len());
        let mut meta = Vec::with_capacity(raws.len());
        for (ts, raw) in raws {
            let seq = self.next_seq;
            self.next_seq += 1;
            let s = &mut self.sseq[raw.sym as usize];
            *s += 1;
            let start = self.buf.len();
            encode_tick(
                &mut self.buf,
                seq,
                *s,
                self.universe.name(raw.sym),
                raw,
                *ts,
            );
            spans.push(start..self.buf.len());
            meta.push((seq, *s, *ts, *raw));
        }
        let all = Bytes::copy_from_slice(&self.buf);
        let encoded: Vec<Encoded> = spans
            .into_iter()
            .zip(meta)
            .map(|(span, (seq, sseq, ts, raw))| Encoded {
                seq,
                sseq,
                ts,
                raw,
                json: all.slice(span),
            })
            .collect();
        self.journal.append(&encoded);
        self.next_seq - 1
    }

    /// Generates and publishes `n` ticks stamped now, bypassing the Poisson clock.
    pub fn publish_now(&mut self, n: usize) -> u64 {
        let ts = now_micros();
        let raws: Vec<(u64, RawTick)> = (0..n)
            .map(|_| (ts, self.market.tick_after(NOMINAL_DT_S)))
            .collect();
        if raws.is_empty() {
            return self.next_seq - 1;
        }
        self.publish(&raws)
    }
}

/// Starts the paced generator thread (when `rate > 0`). It stops when `stop` is set.
pub fn spawn(
    producer: Arc<Mutex<Producer>>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
    start_instant: Instant,
    start_us: u64,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("tickbench-gen".into())
        .spawn(move || run(producer, metrics, stop, start_instant, start_us))
}

fn run(
    producer: Arc<Mutex<Producer>>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
    start_instant: Instant,
    start_us: u64,
) {
    // Timer slack defaults to 50 µs: every sleep would end up to that late. 1 ns asks for
    // hrtimer precision for this thread only.
    if let Err(e) = nix::sys::prctl::set_timerslack(1) {
        tracing::debug!("could not set timer slack: {e}");
    }
    let mut pending = match producer
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .market
        .next_scheduled()
    {
        Some(p) => p,
        None => return,
    };
    let mut batch: Vec<(u64, RawTick)> = Vec::with_capacity(1024);
    while !stop.load(Ordering::Relaxed) {
        let due = start_instant + Duration::from_secs_f64(pending.0);
        let now = Instant::now();
        if due > now {
            std::thread::sleep((due - now).min(MAX_SLEEP));
            continue;
        }
        let mut p = producer.lock().unwrap_or_else(|e| e.into_inner());
        batch.clear();
        let now = Instant::now();
        loop {
            let (offset, raw) = pending;
            batch.push((start_us + (offset * 1e6) as u64, raw));
            match p.market.next_scheduled() {
                Some(next) => pending = next,
                None => return,
            }
            if batch.len() >= MAX_BATCH || start_instant + Duration::from_secs_f64(pending.0) > now
            {
                break;
            }
        }
        p.publish(&batch);
        drop(p);
        if let Some(&(ts, _)) = batch.last() {
            metrics.record_publish(batch.len(), now_micros().saturating_sub(ts));
        }
    }
}
