//! Turns the source's ticks (the market's random walk or a replayed tape) into published ticks:
//! the paced generator thread, and the on-demand [`Producer::publish_now`] tests use.
//!
//! The generator runs on its own OS thread, not a tokio task: tokio's timer has 1 ms granularity,
//! while latency benchmarks compare against a loopback floor of tens of µs. The thread sleeps with
//! `std::thread::sleep` (an hrtimer; timer slack is set to 1 ns where the kernel allows) until the
//! next tick's scheduled time, then produces every tick whose time has passed in one batch and
//! publishes that batch once, so at high rates it batches instead of falling behind one wake-up
//! at a time.
//!
//! # Restarts: replay, not persistence
//! Tick times are `epoch + offset`, where the offsets are cumulative Poisson draws from the
//! seeded RNG and every price depends only on those draws. So the stream is a pure function of
//! (seed, rate, symbols, epoch), and a server restarted with the same four regenerates it:
//! [`replay`] steps the market from the epoch up to now without sleeping, keeps the last
//! `retain` ticks in the journal (older ones only move the counters and quotes, never encoded),
//! and the paced thread continues from there. Ticks scheduled while no server ran are
//! published at once on startup and show as latency at the client, which is the honest account.
//! Persisting the journal instead would need a disk format, fsync policy and crash recovery,
//! and would still lose the ticks of the downtime; replay costs one market step per tick.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tickbench_wire::now_micros;

use crate::feed::Source;
use crate::journal::{encode_tick, Encoded, Journal};
use crate::market::{RawTick, Universe};
use crate::metrics::Metrics;

/// Most ticks one generator wake-up publishes as a batch, so readers see progress even when
/// the generator is far behind.
const MAX_BATCH: usize = 16_384;
/// Simulated time one `publish_now` tick advances the market by (tests run with rate 0).
const NOMINAL_DT_S: f64 = 0.01;
/// Ticks a replay hands to [`Journal::skip`] at once.
const SKIP_BATCH: usize = 65_536;
/// Longest single sleep, so the thread notices shutdown promptly at low rates.
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// The only writer of the journal: the market plus the sequence counters. Behind a mutex
/// shared by the generator thread and `ServerHandle::publish`, which keeps seqs dense
/// and in order whoever publishes.
pub struct Producer {
    /// The simulated market or a replayed tape.
    source: Source,
    universe: Arc<Universe>,
    journal: Arc<Journal>,
    /// Per-symbol tick counter (`sseq` of the symbol's latest tick).
    sseq: Vec<u64>,
    next_seq: u64,
    buf: Vec<u8>,
}

impl Producer {
    /// A producer publishing `source`'s ticks (a [`Market`](crate::market::Market) converts).
    pub fn new(
        source: impl Into<Source>,
        universe: Arc<Universe>,
        journal: Arc<Journal>,
    ) -> Producer {
        let n = universe.len();
        Producer {
            source: source.into(),
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

    /// The source's next tick, stamped with its scheduled time `epoch_us + offset`. `None` at
    /// rate 0 or at the end of a tape.
    fn next_scheduled(&mut self, epoch_us: u64) -> Option<(u64, RawTick)> {
        self.source
            .next_scheduled()
            .map(|(offset, raw)| (epoch_us + offset, raw))
    }

    /// Gives ticks their seqs without encoding or retaining them (see [`replay`]).
    fn skip(&mut self, raws: &[(u64, RawTick)]) {
        let numbered: Vec<(u64, u64, u64, RawTick)> = raws
            .iter()
            .map(|&(ts, raw)| {
                let seq = self.next_seq;
                self.next_seq += 1;
                let s = &mut self.sseq[raw.sym as usize];
                *s += 1;
                (seq, *s, ts, raw)
            })
            .collect();
        self.journal.skip(&numbered);
    }

    /// Generates and publishes `n` ticks stamped now, bypassing the Poisson clock (a tape's
    /// next `n`, fewer at its end).
    pub fn publish_now(&mut self, n: usize) -> u64 {
        let ts = now_micros();
        let raws: Vec<(u64, RawTick)> = (0..n)
            .map_while(|_| self.source.tick_now(NOMINAL_DT_S).map(|raw| (ts, raw)))
            .collect();
        if raws.is_empty() {
            return self.next_seq - 1;
        }
        self.publish(&raws)
    }
}

/// What a replay did: how many ticks it published (or skipped), and the first tick scheduled
/// after `now`, which the paced thread publishes first.
#[derive(Debug)]
pub struct Replayed {
    pub ticks: u64,
    pub pending: Option<(u64, RawTick)>,
}

/// Regenerates every tick scheduled from `epoch_us` up to `now_us` at once (no sleeping), as
/// the module docs explain. Only the newest `retain` are encoded and journaled; the ones the
/// ring would have evicted anyway only advance seq/sseq and the quotes. Memory is bounded by
/// `retain` raw ticks. Must run before anything else publishes.
pub fn replay(producer: &mut Producer, epoch_us: u64, now_us: u64) -> Replayed {
    let retain = producer.journal.retain();
    let mut kept: VecDeque<(u64, RawTick)> = VecDeque::new();
    let mut evicted: Vec<(u64, RawTick)> = Vec::new();
    let mut ticks = 0u64;
    let pending = loop {
        let Some(t) = producer.next_scheduled(epoch_us) else {
            break None;
        };
        if t.0 > now_us {
            break Some(t);
        }
        ticks += 1;
        if kept.len() == retain {
            evicted.extend(kept.pop_front());
            if evicted.len() >= SKIP_BATCH {
                producer.skip(&evicted);
                evicted.clear();
            }
        }
        kept.push_back(t);
    };
    producer.skip(&evicted);
    for batch in kept.make_contiguous().chunks(MAX_BATCH) {
        producer.publish(batch);
    }
    Replayed { ticks, pending }
}

/// Starts the paced generator thread (when `rate > 0`), continuing from `pending` (see
/// [`replay`]). It stops when `stop` is set.
pub fn spawn(
    producer: Arc<Mutex<Producer>>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
    epoch_us: u64,
    pending: Option<(u64, RawTick)>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("tickbench-gen".into())
        .spawn(move || run(producer, metrics, stop, epoch_us, pending))
}

fn run(
    producer: Arc<Mutex<Producer>>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
    epoch_us: u64,
    pending: Option<(u64, RawTick)>,
) {
    // Timer slack defaults to 50 µs: every sleep would end up to that late. 1 ns asks for
    // hrtimer precision for this thread only.
    if let Err(e) = nix::sys::prctl::set_timerslack(1) {
        tracing::debug!("could not set timer slack: {e}");
    }
    // Scheduled µs → Instant, anchored once: the monotonic clock paces, the wall clock only
    // names the times. Times already past map to `base` (due at once).
    let base = Instant::now();
    let base_us = now_micros();
    let due = |ts: u64| base + Duration::from_micros(ts.saturating_sub(base_us));
    let first = pending.or_else(|| {
        producer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_scheduled(epoch_us)
    });
    let Some(mut pending) = first else {
        return;
    };
    let mut batch: Vec<(u64, RawTick)> = Vec::with_capacity(1024);
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let at = due(pending.0);
        if at > now {
            std::thread::sleep((at - now).min(MAX_SLEEP));
            continue;
        }
        let mut p = producer.lock().unwrap_or_else(|e| e.into_inner());
        batch.clear();
        let now = Instant::now();
        let mut more = true;
        loop {
            batch.push(pending);
            match p.next_scheduled(epoch_us) {
                Some(next) => pending = next,
                // The end of a tape: publish what is due, then stop.
                None => {
                    more = false;
                    break;
                }
            }
            if batch.len() >= MAX_BATCH || due(pending.0) > now {
                break;
            }
        }
        p.publish(&batch);
        drop(p);
        if let Some(&(ts, _)) = batch.last() {
            metrics.record_publish(batch.len(), now_micros().saturating_sub(ts));
        }
        if !more {
            return;
        }
    }
}
