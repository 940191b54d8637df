//! A phase's measured window: the seconds collected in it ([`Second`]), summed into the phase's
//! row of `summary.json` and its merged latency histogram.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use tickbench_wire::{Transport, TransportSummary};

use crate::chaos::ChaosCounts;
use crate::procstat::ProcSample;
use crate::progress::Stage;
use crate::results::latency_summary;
use crate::saturation;
use crate::stats::{new_histogram, Counters, Interval};

/// One collected second and what was sampled with it.
pub(super) struct Second {
    /// Every worker's interval, merged.
    pub(super) interval: Interval,
    /// Its length, seconds.
    pub(super) dt: f64,
    /// CPU seconds of the load generator and the server in it.
    pub(super) loadgen_cpu_s: f64,
    pub(super) server_cpu_s: f64,
    /// Ticks the server generated in it (journal head delta).
    pub(super) generated: u64,
    /// The processes at its end.
    pub(super) loadgen: Option<ProcSample>,
    pub(super) server: Option<ProcSample>,
}

/// A phase's measured window, accumulated second by second, plus what the phase saw outside it.
pub(super) struct Window {
    pub(super) measured: Interval,
    pub(super) secs: f64,
    pub(super) loadgen_cpu_s: f64,
    pub(super) server_cpu_s: f64,
    pub(super) ticks_generated: u64,
    pub(super) max_loadgen_cpu_pct: f64,
    pub(super) last_loadgen: Option<ProcSample>,
    pub(super) last_server: Option<ProcSample>,
    /// The server at the end of the window's first second: with `last_server`, whether its memory
    /// stayed flat after warm-up (slow consumers must not make it grow).
    pub(super) first_server: Option<ProcSample>,
    pub(super) saturation_reasons: Vec<String>,
    /// Time to first tick of every client of the phase, whatever the stage it happened in.
    pub(super) first_ticks: Histogram<u64>,
    /// Sequence problems during ramp, warm-up and the drain: not in the figures, but not lost.
    pub(super) unrecorded: Counters,
    /// `--chaos`: whether the proxy was on, and the faults it injected in the measured window.
    pub(super) chaos_on: bool,
    pub(super) chaos: ChaosCounts,
    /// `--slow-clients`: how many of the phase's clients read slowly.
    pub(super) slow_clients: u64,
    /// Server restarts seen during the phase (its `/healthz` uptime fell), by chaos or by anyone.
    pub(super) restarts_seen: u64,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            measured: Interval::default(),
            secs: 0.0,
            loadgen_cpu_s: 0.0,
            server_cpu_s: 0.0,
            ticks_generated: 0,
            max_loadgen_cpu_pct: 0.0,
            last_loadgen: None,
            last_server: None,
            first_server: None,
            saturation_reasons: Vec::new(),
            first_ticks: new_histogram(),
            unrecorded: Counters::default(),
            chaos_on: false,
            chaos: ChaosCounts::default(),
            slow_clients: 0,
            restarts_seen: 0,
        }
    }
}

impl Window {
    /// Adds one measured second.
    pub(super) fn add(&mut self, s: &Second, loadgen_cpu_pct: f64, reasons: Vec<String>) {
        self.measured.merge_over_time(&s.interval);
        self.secs += s.dt;
        self.loadgen_cpu_s += s.loadgen_cpu_s;
        self.server_cpu_s += s.server_cpu_s;
        self.ticks_generated += s.generated;
        self.max_loadgen_cpu_pct = self.max_loadgen_cpu_pct.max(loadgen_cpu_pct);
        self.last_loadgen = s.loadgen.or(self.last_loadgen);
        self.last_server = s.server.or(self.last_server);
        self.first_server = self.first_server.or(s.server);
        // One late second does not make a phase's latencies the instrument's: the event loop
        // is judged over the whole window in `into_summary`. CPU and schedule stay per second.
        let sustained = reasons
            .into_iter()
            .filter(|r| !saturation::is_loop_lag(r))
            .collect();
        saturation::accumulate(&mut self.saturation_reasons, sustained);
    }

    /// Ramp, warm-up and after-window deliveries are not recorded, but they are sequence-checked:
    /// a loss there must not vanish silently, so it is logged and counted in `extra`.
    pub(super) fn unrecorded(&mut self, iv: &Interval, transport: Transport, stage: Stage) {
        let c = &iv.counters;
        if c.loss() > 0 {
            tracing::warn!(
                "{transport}: loss outside the measured window ({stage:?}): {} gaps, {} duplicates, {} out of order",
                c.gaps,
                c.duplicates,
                c.out_of_order
            );
        }
        self.unrecorded.gaps += c.gaps;
        self.unrecorded.duplicates += c.duplicates;
        self.unrecorded.out_of_order += c.out_of_order;
    }

    /// The phase's row of `summary.json`, and its merged latency histogram.
    pub(super) fn into_summary(
        self,
        transport: Transport,
        clients: u64,
    ) -> (TransportSummary, Histogram<u64>) {
        let m = self.measured;
        let c = m.counters;
        let mut saturation_reasons = self.saturation_reasons;
        if !m.loop_lag.is_empty() {
            saturation::accumulate(
                &mut saturation_reasons,
                saturation::loop_lag_reason(
                    m.loop_lag.value_at_quantile(0.99),
                    m.latency.value_at_quantile(0.99),
                )
                .into_iter()
                .collect(),
            );
        }
        let mut extra = BTreeMap::from([
            ("negative_latency".to_string(), c.negative_latency as f64),
            ("latency_clamped".to_string(), c.latency_clamped as f64),
            (
                "ticks_per_s".to_string(),
                self.ticks_generated as f64 / self.secs,
            ),
            (
                "loss_outside_window".to_string(),
                self.unrecorded.loss() as f64,
            ),
            (
                "loop_lag_us_p99".to_string(),
                m.loop_lag.value_at_quantile(0.99) as f64,
            ),
            ("loadgen_cpu_pct_max".to_string(), self.max_loadgen_cpu_pct),
            // Clients that received a tick in the window's last second: "still receiving".
            ("clients_active_last_s".to_string(), m.active as f64),
            // ... or within its last 5 s (a client mid-reconnect is still alive).
            ("clients_active_last_5s".to_string(), m.active_recent as f64),
        ]);
        if let Some(first) = self.first_server {
            extra.insert(
                "server_rss_window_start_bytes".into(),
                first.rss_bytes as f64,
            );
        }
        if self.restarts_seen > 0 {
            extra.insert("server_restarts_seen".into(), self.restarts_seen as f64);
        }
        let per_s = |n: u64| {
            if self.secs > 0.0 {
                n as f64 / self.secs
            } else {
                0.0
            }
        };
        if self.chaos_on {
            let k = self.chaos;
            for (key, v) in [
                ("chaos_resets", k.resets as f64),
                ("chaos_stalls", k.stalls as f64),
                ("chaos_cuts", k.cuts as f64),
                ("chaos_restarts", k.restarts as f64),
                ("chaos_connections", k.connections as f64),
                ("chaos_upstream_refused", k.upstream_refused as f64),
                ("chaos_faults_per_s", per_s(k.faults())),
                ("reconnects_per_s", per_s(c.reconnects)),
            ] {
                extra.insert(key.to_string(), v);
            }
        }
        if self.slow_clients > 0 {
            let q = |h: &Histogram<u64>, p: f64| {
                if h.is_empty() {
                    0.0
                } else {
                    h.value_at_quantile(p) as f64
                }
            };
            for (key, v) in [
                ("slow_clients", self.slow_clients as f64),
                ("slow_delivered", c.slow_delivered as f64),
                ("slow_gap_notices", c.slow_gap_notices as f64),
                (
                    "normal_gap_notices",
                    c.gap_notices.saturating_sub(c.slow_gap_notices) as f64,
                ),
                ("slow_latency_us_p50", q(&m.slow_latency, 0.5)),
                ("slow_latency_us_p99", q(&m.slow_latency, 0.99)),
                ("slow_latency_us_max", m.slow_latency.max() as f64),
            ] {
                extra.insert(key.to_string(), v);
            }
        }
        let first_tick_ms_p50 = if self.first_ticks.is_empty() {
            0.0
        } else {
            self.first_ticks.value_at_quantile(0.5) as f64 / 1000.0
        };
        let summary = TransportSummary {
            name: transport.name().to_string(),
            clients,
            clients_receiving: m.receiving,
            duration_s: self.secs,
            delivered: c.delivered,
            gaps: c.gaps,
            duplicates: c.duplicates,
            out_of_order: c.out_of_order,
            gap_notices: c.gap_notices,
            latency_us: latency_summary(&m.latency),
            requests: c.requests,
            empty_responses: c.empty_responses,
            bytes: c.bytes,
            errors: m.errors,
            reconnects: c.reconnects,
            first_tick_ms_p50,
            server_cpu_s: self.server_cpu_s,
            loadgen_cpu_s: self.loadgen_cpu_s,
            server_rss_bytes: self.last_server.map_or(0, |s| s.rss_bytes),
            loadgen_rss_bytes: self.last_loadgen.map_or(0, |s| s.rss_bytes),
            saturated: !saturation_reasons.is_empty(),
            saturation_reasons,
            schedule_lag_us_p99: m.schedule_lag.value_at_quantile(0.99),
            floor_multiples: None,
            steal_pct: None,
            bare_http: None,
            takeover: crate::stats::takeover_summary(&m.takeover),
            link: tickbench_wire::Link::default(),
            extra,
        };
        (summary, m.latency)
    }
}

/// CPU seconds spent between two samples of one process (0 when either is missing).
pub(super) fn cpu_delta(a: Option<ProcSample>, b: Option<ProcSample>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) => b.cpu.saturating_sub(a.cpu).as_secs_f64(),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(delivered: u64, latency_us: u64, gaps: u64) -> Second {
        let mut interval = Interval::default();
        interval.counters.delivered = delivered;
        interval.counters.gaps = gaps;
        interval.counters.requests = 10;
        interval.latency.record_n(latency_us, delivered).unwrap();
        interval.receiving = 3;
        Second {
            interval,
            dt: 1.0,
            loadgen_cpu_s: 0.25,
            server_cpu_s: 0.5,
            generated: 100,
            loadgen: None,
            server: None,
        }
    }

    #[test]
    fn window_sums_measured_seconds_and_keeps_outside_loss_apart() {
        let mut w = Window::default();
        // A warm-up second with a gap: not in the figures, but counted on the side.
        w.unrecorded(
            &second(50, 9_999, 2).interval,
            Transport::Sse,
            Stage::Warmup,
        );
        w.add(&second(100, 1_000, 0), 12.5, vec![]);
        w.add(
            &second(300, 3_000, 0),
            80.0,
            vec!["schedule behind: p99 lag 200 ms".into()],
        );
        let (t, h) = w.into_summary(Transport::Sse, 3);
        assert_eq!(t.delivered, 400);
        assert_eq!(t.gaps, 0);
        assert_eq!(t.extra["loss_outside_window"], 2.0);
        assert_eq!(t.duration_s, 2.0);
        assert_eq!(t.deliveries_per_s(), 200.0);
        assert_eq!(t.requests, 20);
        assert_eq!(t.server_cpu_s, 1.0);
        assert_eq!(t.extra["ticks_per_s"], 100.0);
        assert_eq!(t.extra["loadgen_cpu_pct_max"], 80.0);
        assert_eq!(t.clients_receiving, 3);
        assert!(t.saturated);
        assert_eq!(h.len(), 400);
        assert_eq!(t.latency_us.max, h.max());
        assert!(
            t.latency_us.p50 >= 2_990 && t.latency_us.p50 <= 3_010,
            "{:?}",
            t.latency_us
        );
    }
}
