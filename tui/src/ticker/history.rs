//! What the detail view shows of one symbol beyond its quote: its candles, and the latency of its
//! ticks on the current transport over the last [`WINDOW_S`] seconds.

use std::collections::VecDeque;

use hdrhistogram::Histogram;

use crate::ticker::candles::Candles;

/// Window of the per-symbol latency, seconds (the footer's window).
pub const WINDOW_S: u64 = 10;

/// One second of a symbol's deliveries.
#[derive(Debug, Clone)]
struct Second {
    sec: u64,
    latency: Histogram<u64>,
}

/// One watched symbol's history.
#[derive(Debug, Clone, Default)]
pub struct SymbolHistory {
    pub candles: Candles,
    seconds: VecDeque<Second>,
}

/// A symbol's delivery latency over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolLatency {
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub ticks: u64,
}

impl SymbolHistory {
    /// Counts a delivery received at `recv_us` of a tick scheduled at `ts_us`.
    pub fn delivered(&mut self, ts_us: u64, recv_us: u64) {
        let sec = recv_us / 1_000_000;
        if self.seconds.back().is_none_or(|s| s.sec != sec) {
            self.seconds.push_back(Second {
                sec,
                latency: new_hist(),
            });
            while self.seconds.len() > WINDOW_S as usize + 1 {
                self.seconds.pop_front();
            }
        }
        if let Some(s) = self.seconds.back_mut() {
            s.latency
                .saturating_record(recv_us.saturating_sub(ts_us).max(1));
        }
    }

    /// Forgets the latency (a new transport measures afresh); the candles stay.
    pub fn reset_latency(&mut self) {
        self.seconds.clear();
    }

    /// The latency over the last [`WINDOW_S`] seconds before `now_us`, if any tick arrived.
    pub fn latency(&self, now_us: u64) -> Option<SymbolLatency> {
        let now = now_us / 1_000_000;
        let mut h = new_hist();
        for s in self.seconds.iter().filter(|s| s.sec + WINDOW_S > now) {
            let _ = h.add(&s.latency);
        }
        (!h.is_empty()).then(|| SymbolLatency {
            p50_us: h.value_at_quantile(0.5),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
            ticks: h.len(),
        })
    }
}

fn new_hist() -> Histogram<u64> {
    // 1 µs .. 1 h at 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}
