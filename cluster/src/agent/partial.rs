//! What the coordinator keeps of an agent from its per-second [`Beat`]s: the measured seconds'
//! histograms and counters, its takeovers, and its CPU and RSS. For an agent that finishes, its
//! result replaces this; for one that dies mid-run, this is its data up to its death, merged
//! with the others' and marked partial.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use tickbench_loadgen::results::latency_summary;
use tickbench_loadgen::stats::{new_histogram, takeover_summary};
use tickbench_wire::{LatencySummary, Link, TransportSummary};

use super::merge::{merge_intervals, whole, Intervals};
use super::plan::{decode_histogram, Beat};

/// An agent's beats so far.
#[derive(Debug, Default)]
pub struct Partial {
    /// Measured seconds' latencies, by transport and second since the common start.
    pub seconds: Intervals,
    /// Measured takeovers by transport.
    pub takeover: BTreeMap<String, Histogram<u64>>,
    /// Measured counters by transport (the latency fields are filled from `seconds`).
    rows: BTreeMap<String, TransportSummary>,
    /// The agent process's CPU seconds at its first and latest beat, its latest and largest RSS.
    cpu_first: Option<f64>,
    pub cpu_last: f64,
    pub rss_last: u64,
    pub rss_max: u64,
    /// Time since the common start of its latest beat, ms.
    pub last_at_ms: u64,
    pub beats: u64,
}

impl Partial {
    /// Takes one beat.
    pub fn add(&mut self, b: &Beat) -> Result<(), String> {
        self.beats += 1;
        self.last_at_ms = self.last_at_ms.max(b.at_ms);
        self.cpu_first.get_or_insert(b.cpu_s);
        self.cpu_last = b.cpu_s;
        self.rss_last = b.rss_bytes;
        self.rss_max = self.rss_max.max(b.rss_bytes);
        let Some(t) = b.transport.clone().filter(|_| b.measured) else {
            return Ok(());
        };
        // The beat is sent as its second ends.
        let second = (b.at_ms / 1000).saturating_sub(1);
        if let Some(h) = decode_histogram(&b.latency) {
            let mut one = Intervals::new();
            one.entry(t.clone())
                .or_default()
                .insert(second, (Duration::from_secs(1), h));
            merge_intervals(&mut self.seconds, &one)?;
        }
        if let Some(h) = decode_histogram(&b.takeover) {
            let into = self.takeover.entry(t.clone()).or_insert_with(new_histogram);
            into.add(&h).map_err(|e| format!("histogram add: {e:?}"))?;
        }
        let r = self.rows.entry(t.clone()).or_insert_with(|| empty_row(&t));
        r.clients = r.clients.max(b.clients_target);
        r.clients_receiving = b.clients_connected;
        r.duration_s += 1.0;
        r.delivered += b.delivered;
        r.requests += b.requests;
        r.bytes += b.bytes;
        r.gaps += b.gaps;
        r.duplicates += b.duplicates;
        r.out_of_order += b.out_of_order;
        r.gap_notices += b.gap_notices;
        r.reconnects += b.reconnects;
        for (k, v) in &b.errors {
            *r.errors.entry(k.clone()).or_default() += v;
        }
        Ok(())
    }

    /// CPU seconds between its first and latest beat.
    pub fn cpu_s(&self) -> f64 {
        (self.cpu_last - self.cpu_first.unwrap_or(self.cpu_last)).max(0.0)
    }

    /// Its transport rows as far as its beats went (latency from its measured seconds).
    pub fn rows(&self) -> Vec<TransportSummary> {
        self.rows
            .values()
            .map(|r| {
                let mut r = r.clone();
                if let Some(s) = self.seconds.get(&r.name) {
                    r.latency_us = latency_summary(&whole(s));
                }
                r.takeover = self.takeover.get(&r.name).and_then(takeover_summary);
                r.loadgen_cpu_s = self.cpu_s();
                r.loadgen_rss_bytes = self.rss_last;
                r
            })
            .collect()
    }
}

fn empty_row(name: &str) -> TransportSummary {
    TransportSummary {
        name: name.to_string(),
        clients: 0,
        clients_receiving: 0,
        duration_s: 0.0,
        delivered: 0,
        gaps: 0,
        duplicates: 0,
        out_of_order: 0,
        gap_notices: 0,
        latency_us: LatencySummary::default(),
        requests: 0,
        empty_responses: 0,
        bytes: 0,
        errors: BTreeMap::new(),
        reconnects: 0,
        first_tick_ms_p50: 0.0,
        server_cpu_s: 0.0,
        loadgen_cpu_s: 0.0,
        server_rss_bytes: 0,
        loadgen_rss_bytes: 0,
        saturated: false,
        saturation_reasons: Vec::new(),
        schedule_lag_us_p99: 0,
        floor_multiples: None,
        steal_pct: None,
        bare_http: None,
        takeover: None,
        link: Link::default(),
        extra: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::encode_histogram;
    use super::*;

    #[test]
    fn measured_beats_add_up_and_the_others_only_say_alive() {
        let mut p = Partial::default();
        let mut h = new_histogram();
        h.record_n(1_000, 7).unwrap();
        let beat = |at_ms, measured| Beat {
            agent: "a".into(),
            at_ms,
            transport: Some("sse".into()),
            measured,
            latency: encode_histogram(&h),
            delivered: 7,
            cpu_s: at_ms as f64 / 10_000.0,
            rss_bytes: 1 << 20,
            ..Beat::default()
        };
        for (at, m) in [(1_000, false), (2_000, true), (3_000, true)] {
            p.add(&beat(at, m)).unwrap();
        }
        let rows = p.rows();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].delivered, 14);
        assert_eq!(whole(&p.seconds["sse"]).len(), 14);
        assert_eq!(p.last_at_ms, 3_000);
        assert!((p.cpu_s() - 0.2).abs() < 1e-9);
    }
}
