//! What the clients of one worker report, kept per second: the [`Sink`] implementation, the
//! per-second [`Interval`] (latency and lag HdrHistograms plus counters) and how intervals merge.
//!
//! At the ~500-line guide: the sink, the interval and the merge are the one per-worker record.
//!
//! Each worker thread owns one [`WorkerStats`] behind an `Rc<RefCell<..>>`: its clients run on the
//! same single-threaded runtime, so recording is a borrow and an add, with no lock and no atomic on
//! the hot path. Every second the coordinator asks each worker for its interval (swapping in a fresh
//! one) and merges them with `Histogram::add`. No raw sample is ever kept.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use hdrhistogram::Histogram;
use tickbench_wire::{Gap, Tick};

use crate::clients::{ErrorKind, SeqOutcome, Sink};

/// Lowest and highest trackable latency (µs) and significant digits of every histogram: 1 µs to
/// 60 s at 0.1 % precision. Larger values are recorded as the highest trackable one rather than
/// dropped, and counted ([`Counters::latency_clamped`]) so a clamped tail is flagged, not read
/// as real.
pub const HIST_LOW: u64 = 1;
pub const HIST_HIGH: u64 = 60_000_000;
pub const HIST_SIGFIG: u8 = 3;
/// Highest trackable latency of the slow consumers' histogram, µs: an hour, since a client that
/// reads a tenth of its stream falls minutes behind in an ordinary run.
pub const SLOW_HIST_HIGH: u64 = 3_600_000_000;

/// A histogram with the run's bounds.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(HIST_LOW, HIST_HIGH, HIST_SIGFIG)
        .expect("constant histogram bounds are valid")
}

/// The slow consumers' latency histogram: the run's, up to [`SLOW_HIST_HIGH`].
pub fn new_slow_histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(HIST_LOW, SLOW_HIST_HIGH, HIST_SIGFIG)
        .expect("constant histogram bounds are valid")
}

/// Records `v` in `h`, clamped to its highest trackable value; true if it had to be clamped.
fn record_clamped(h: &mut Histogram<u64>, v: u64) -> bool {
    let high = h.high();
    h.saturating_record(v.min(high));
    v > high
}

/// A phase's takeovers (`summary.json`'s `takeover`) from their merged histogram; `None` when no
/// client moved.
pub fn takeover_summary(h: &Histogram<u64>) -> Option<tickbench_wire::Takeover> {
    let ms = |us: u64| us as f64 / 1000.0;
    (!h.is_empty()).then(|| tickbench_wire::Takeover {
        count: h.len(),
        ms_p50: ms(h.value_at_quantile(0.5)),
        ms_p99: ms(h.value_at_quantile(0.99)),
        ms_max: ms(h.max()),
    })
}

/// Plain counters of one interval. All are "events in this interval" except where noted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub delivered: u64,
    pub requests: u64,
    pub answers: u64,
    pub empty_responses: u64,
    pub bytes: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub gap_notices: u64,
    pub reconnects: u64,
    /// Ticks parsed before their scheduled time (clock skew): recorded as 0 µs, counted here.
    pub negative_latency: u64,
    /// Of `delivered` and `gap_notices`, the part that went to slow consumers (`--slow-clients`).
    pub slow_delivered: u64,
    pub slow_gap_notices: u64,
    /// Latency samples above the histogram's highest trackable value (60 s; an hour for slow
    /// consumers), recorded as that value: the tail they fall in is a lower bound.
    pub latency_clamped: u64,
}

impl Counters {
    fn add(&mut self, o: &Counters) {
        self.delivered += o.delivered;
        self.requests += o.requests;
        self.answers += o.answers;
        self.empty_responses += o.empty_responses;
        self.bytes += o.bytes;
        self.gaps += o.gaps;
        self.duplicates += o.duplicates;
        self.out_of_order += o.out_of_order;
        self.gap_notices += o.gap_notices;
        self.reconnects += o.reconnects;
        self.negative_latency += o.negative_latency;
        self.slow_delivered += o.slow_delivered;
        self.slow_gap_notices += o.slow_gap_notices;
        self.latency_clamped += o.latency_clamped;
    }

    /// Sequence problems: must stay 0 in a healthy run.
    pub fn loss(&self) -> u64 {
        self.gaps + self.duplicates + self.out_of_order
    }
}

/// One worker's (or, merged, the whole load generator's) record of one interval. `Send`, so it can
/// travel from a worker thread to the coordinator.
#[derive(Debug, Clone)]
pub struct Interval {
    /// End-to-end tick latency, µs, of the clients that read at full speed.
    pub latency: Histogram<u64>,
    /// The same for slow consumers (`--slow-clients`), apart so they do not pollute the others'.
    pub slow_latency: Histogram<u64>,
    /// How late scheduled requests fired, µs ([`Sink::schedule_lag`]).
    pub schedule_lag: Histogram<u64>,
    /// How long the event-loop probe's beats waited for the worker's loop, µs: event-loop lag.
    pub loop_lag: Histogram<u64>,
    /// Per client, time from its start to its first tick, µs (one sample per client).
    pub first_tick: Histogram<u64>,
    /// Edge takeovers (`--failover`), µs from losing the connection to the first tick on the
    /// new edge (one sample per move).
    pub takeover: Histogram<u64>,
    pub counters: Counters,
    pub errors: BTreeMap<String, u64>,
    /// Gauges at the moment the interval was taken (not per-interval events).
    pub connected: u64,
    pub receiving: u64,
    /// Clients that received at least one tick in this interval (each counted once).
    pub active: u64,
    /// Gauge: clients whose latest tick came within the last [`RECENT`] intervals (this one
    /// included): "still receiving", robust to a client that is mid-reconnect for a second.
    pub active_recent: u64,
}

impl Default for Interval {
    fn default() -> Self {
        Interval {
            latency: new_histogram(),
            slow_latency: new_slow_histogram(),
            schedule_lag: new_histogram(),
            loop_lag: new_histogram(),
            first_tick: new_histogram(),
            takeover: new_histogram(),
            counters: Counters::default(),
            errors: BTreeMap::new(),
            connected: 0,
            receiving: 0,
            active: 0,
            active_recent: 0,
        }
    }
}

impl Interval {
    /// Adds `other` into `self`: histograms with `Histogram::add`, counters and gauges summed (the
    /// gauges of different workers add up; across time, use [`Interval::merge_over_time`]).
    pub fn merge(&mut self, other: &Interval) {
        // Same bounds everywhere, so `add` cannot fail; saturate rather than panic if it ever did.
        let _ = self.latency.add(&other.latency);
        let _ = self.slow_latency.add(&other.slow_latency);
        let _ = self.schedule_lag.add(&other.schedule_lag);
        let _ = self.loop_lag.add(&other.loop_lag);
        let _ = self.first_tick.add(&other.first_tick);
        let _ = self.takeover.add(&other.takeover);
        self.counters.add(&other.counters);
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.connected += other.connected;
        self.receiving += other.receiving;
        self.active += other.active;
        self.active_recent += other.active_recent;
    }

    /// Adds a later interval of the same clients: events add up, gauges take the later value.
    pub fn merge_over_time(&mut self, later: &Interval) {
        let (connected, receiving, active, recent) = (
            later.connected,
            later.receiving,
            later.active,
            later.active_recent,
        );
        self.merge(later);
        self.connected = connected;
        self.receiving = receiving;
        self.active = active;
        self.active_recent = recent;
    }
}

/// One worker's live record. Gauges live outside the interval because they persist across seconds.
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub current: Interval,
    pub connected: u64,
    pub receiving: u64,
    /// Bumped by every [`WorkerStats::take`]: a client whose last tick was in an older generation
    /// has not yet been counted in `current.active`.
    pub generation: u64,
    /// Clients by the generation of their latest tick, for the last [`RECENT`] generations
    /// (slot `g % RECENT`).
    latest_in: [u64; RECENT as usize],
}

/// How many intervals (seconds) [`Interval::active_recent`] looks back.
pub const RECENT: u64 = 5;

impl WorkerStats {
    /// Hands out the interval recorded so far (with the gauges as of now) and starts a new one.
    pub fn take(&mut self) -> Interval {
        let mut iv = std::mem::take(&mut self.current);
        iv.connected = self.connected;
        iv.receiving = self.receiving;
        iv.active_recent = self.latest_in.iter().sum();
        self.generation += 1;
        // The slot now reused held the generation that just left the window.
        self.latest_in[(self.generation % RECENT) as usize] = 0;
        iv
    }
}

/// The [`Sink`] one simulated client reports into: its worker's stats plus the little per-client
/// state needed for gauges (connected, has received) and the time to its first tick.
#[derive(Debug)]
pub struct ClientSink {
    stats: Rc<RefCell<WorkerStats>>,
    started: Instant,
    up: Cell<bool>,
    got_tick: Cell<bool>,
    /// The [`WorkerStats::generation`] of this client's last tick (`u64::MAX`: none yet).
    active_in: Cell<u64>,
    /// A slow consumer: its latencies and gap notices are kept apart.
    slow: bool,
}

impl ClientSink {
    pub fn new(stats: Rc<RefCell<WorkerStats>>) -> Self {
        ClientSink {
            stats,
            started: Instant::now(),
            up: Cell::new(false),
            got_tick: Cell::new(false),
            active_in: Cell::new(u64::MAX),
            slow: false,
        }
    }

    /// The sink of a slow consumer (`--slow-clients`).
    pub fn slow(stats: Rc<RefCell<WorkerStats>>) -> Self {
        let mut sink = Self::new(stats);
        sink.slow = true;
        sink
    }
}

impl Drop for ClientSink {
    /// A finished client no longer holds a connection.
    fn drop(&mut self) {
        if self.up.get() {
            let mut s = self.stats.borrow_mut();
            s.connected = s.connected.saturating_sub(1);
        }
    }
}

impl Sink for ClientSink {
    fn request(&self) {
        self.stats.borrow_mut().current.counters.requests += 1;
    }

    fn answer(&self, ticks: usize) {
        let mut s = self.stats.borrow_mut();
        s.current.counters.answers += 1;
        if ticks == 0 {
            s.current.counters.empty_responses += 1;
        }
    }

    fn bytes(&self, n: u64) {
        self.stats.borrow_mut().current.counters.bytes += n;
    }

    fn tick(&self, tick: &Tick, recv_us: u64, outcome: SeqOutcome) {
        let mut s = self.stats.borrow_mut();
        let c = &mut s.current;
        match outcome {
            SeqOutcome::InOrder => {}
            SeqOutcome::Gap(n) => c.counters.gaps += n,
            SeqOutcome::Duplicate => c.counters.duplicates += 1,
            SeqOutcome::OutOfOrder => c.counters.out_of_order += 1,
        }
        // A duplicate or late copy is not a delivery; its latency would be meaningless.
        if matches!(outcome, SeqOutcome::Duplicate | SeqOutcome::OutOfOrder) {
            return;
        }
        c.counters.delivered += 1;
        let gen = s.generation;
        let before = self.active_in.replace(gen);
        if before != gen {
            s.current.active += 1;
            // Move the client from the slot of its previous latest tick (if still in the window).
            if before != u64::MAX && before + RECENT > gen {
                let slot = &mut s.latest_in[(before % RECENT) as usize];
                *slot = slot.saturating_sub(1);
            }
            s.latest_in[(gen % RECENT) as usize] += 1;
        }
        let c = &mut s.current;
        let latency = match recv_us.checked_sub(tick.ts) {
            Some(l) => l,
            None => {
                c.counters.negative_latency += 1;
                0
            }
        };
        let clamped = if self.slow {
            c.counters.slow_delivered += 1;
            record_clamped(&mut c.slow_latency, latency)
        } else {
            record_clamped(&mut c.latency, latency)
        };
        if clamped {
            c.counters.latency_clamped += 1;
        }
        if !self.got_tick.replace(true) {
            let since_start = self.started.elapsed().as_micros() as u64;
            c.first_tick.saturating_record(since_start);
            s.receiving += 1;
        }
    }

    fn gap_notice(&self, _gap: Gap) {
        let c = &mut self.stats.borrow_mut().current.counters;
        c.gap_notices += 1;
        if self.slow {
            c.slow_gap_notices += 1;
        }
    }

    fn error(&self, kind: ErrorKind) {
        *self
            .stats
            .borrow_mut()
            .current
            .errors
            .entry(kind.key())
            .or_default() += 1;
    }

    fn reconnect(&self) {
        self.stats.borrow_mut().current.counters.reconnects += 1;
    }

    fn schedule_lag(&self, lag_us: u64) {
        self.stats
            .borrow_mut()
            .current
            .schedule_lag
            .saturating_record(lag_us);
    }

    fn takeover(&self, us: u64) {
        record_clamped(&mut self.stats.borrow_mut().current.takeover, us);
    }

    fn connected(&self, up: bool) {
        if self.up.replace(up) != up {
            let mut s = self.stats.borrow_mut();
            if up {
                s.connected += 1;
            } else {
                s.connected = s.connected.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(sseq: u64, ts: u64) -> Tick {
        Tick {
            seq: sseq,
            sseq,
            sym: "AAPL".into(),
            bid: 1.0,
            ask: 1.0,
            last: 1.0,
            size: 1,
            ts,
        }
    }

    #[test]
    fn per_worker_merge_equals_one_histogram() {
        let mut all = new_histogram();
        let mut merged = Interval::default();
        for w in 0..4u64 {
            let stats = Rc::new(RefCell::new(WorkerStats::default()));
            let sink = ClientSink::new(stats.clone());
            for i in 0..1000u64 {
                let lat = (w * 7919 + i * 104_729) % 5_000_000 + 1;
                sink.tick(
                    &tick(i + 1, 1_000_000_000),
                    1_000_000_000 + lat,
                    SeqOutcome::InOrder,
                );
                all.record(lat).unwrap();
            }
            let iv = stats.borrow_mut().take();
            merged.merge(&iv);
        }
        assert_eq!(merged.latency, all);
        assert_eq!(merged.counters.delivered, 4000);
        assert_eq!(merged.receiving, 4);
        assert_eq!(merged.first_tick.len(), 4);
        for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                merged.latency.value_at_quantile(q),
                all.value_at_quantile(q)
            );
        }
    }

    #[test]
    fn outcomes_and_negative_latency_are_counted() {
        let stats = Rc::new(RefCell::new(WorkerStats::default()));
        let sink = ClientSink::new(stats.clone());
        sink.connected(true);
        sink.connected(true);
        sink.request();
        sink.answer(0);
        sink.tick(&tick(1, 500), 100, SeqOutcome::InOrder);
        sink.tick(&tick(5, 500), 600, SeqOutcome::Gap(3));
        sink.tick(&tick(5, 500), 600, SeqOutcome::Duplicate);
        sink.tick(&tick(4, 500), 600, SeqOutcome::OutOfOrder);
        sink.error(ErrorKind::Status(503));
        let iv = stats.borrow_mut().take();
        assert_eq!(iv.counters.delivered, 2);
        assert_eq!(iv.counters.gaps, 3);
        assert_eq!(iv.counters.duplicates, 1);
        assert_eq!(iv.counters.out_of_order, 1);
        assert_eq!(iv.counters.negative_latency, 1);
        assert_eq!(iv.counters.empty_responses, 1);
        assert_eq!(iv.latency.min(), 0);
        assert_eq!(iv.errors["status_503"], 1);
        assert_eq!(iv.connected, 1);
        drop(sink);
        assert_eq!(stats.borrow().connected, 0);
    }

    #[test]
    fn active_clients_now_and_over_the_recent_window() {
        let stats = Rc::new(RefCell::new(WorkerStats::default()));
        let a = ClientSink::new(stats.clone());
        let b = ClientSink::new(stats.clone());
        a.tick(&tick(1, 1), 2, SeqOutcome::InOrder);
        a.tick(&tick(2, 1), 2, SeqOutcome::InOrder);
        b.tick(&tick(1, 1), 2, SeqOutcome::InOrder);
        let iv = stats.borrow_mut().take();
        assert_eq!((iv.active, iv.active_recent), (2, 2));
        // Only `a` keeps receiving; `b` counts as recent for RECENT intervals, then not.
        for i in 1..=RECENT {
            a.tick(&tick(2 + i, 1), 2, SeqOutcome::InOrder);
            let iv = stats.borrow_mut().take();
            let want = if i < RECENT { 2 } else { 1 };
            assert_eq!((iv.active, iv.active_recent), (1, want), "interval {i}");
        }
        // `b` is back; `a`'s tick of the previous interval is still recent.
        b.tick(&tick(2, 1), 2, SeqOutcome::InOrder);
        let iv = stats.borrow_mut().take();
        assert_eq!((iv.active, iv.active_recent), (1, 2));
        a.tick(&tick(20, 1), 2, SeqOutcome::InOrder);
        let iv = stats.borrow_mut().take();
        assert_eq!((iv.active, iv.active_recent), (1, 2));
    }

    #[test]
    fn slow_consumers_are_kept_apart() {
        let stats = Rc::new(RefCell::new(WorkerStats::default()));
        let fast = ClientSink::new(stats.clone());
        let slow = ClientSink::slow(stats.clone());
        fast.tick(&tick(1, 1_000), 2_000, SeqOutcome::InOrder);
        slow.tick(&tick(1, 1_000), 901_000, SeqOutcome::InOrder);
        slow.tick(&tick(3, 1_000), 901_000, SeqOutcome::Gap(1));
        slow.gap_notice(Gap { from: 1, to: 2 });
        let iv = stats.borrow_mut().take();
        assert_eq!(iv.latency.len(), 1);
        assert_eq!(iv.latency.max(), 1_000);
        assert_eq!(iv.slow_latency.len(), 2);
        assert_eq!(iv.counters.delivered, 3);
        assert_eq!(iv.counters.slow_delivered, 2);
        // A silent gap of a slow client is still loss: it is never hidden in the slow figures.
        assert_eq!(iv.counters.gaps, 1);
        assert_eq!(iv.counters.gap_notices, 1);
        assert_eq!(iv.counters.slow_gap_notices, 1);
        assert_eq!(iv.receiving, 2);
    }

    #[test]
    fn latencies_beyond_the_range_are_clamped_and_counted() {
        let stats = Rc::new(RefCell::new(WorkerStats::default()));
        let fast = ClientSink::new(stats.clone());
        let slow = ClientSink::slow(stats.clone());
        // 90 s late: beyond the normal histogram, inside the slow one.
        fast.tick(&tick(1, 1_000), 90_001_000, SeqOutcome::InOrder);
        slow.tick(&tick(1, 1_000), 90_001_000, SeqOutcome::InOrder);
        let iv = stats.borrow_mut().take();
        assert_eq!(iv.latency.max(), iv.latency.highest_equivalent(HIST_HIGH));
        assert_eq!(
            iv.slow_latency.max(),
            iv.slow_latency.highest_equivalent(90_000_000)
        );
        assert_eq!(iv.counters.latency_clamped, 1);
        // Slow histograms still merge into one another.
        let mut total = Interval::default();
        total.merge(&iv);
        assert_eq!(total.slow_latency.len(), 1);
    }
}
