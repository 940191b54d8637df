//! The points of a sweep: its cells with the repetitions folded into medians, which the report,
//! the charts and the claim verdicts read.

use std::collections::BTreeMap;
use std::time::Duration;

use tickbench_loadgen::targets::TargetKind;
use tickbench_wire::{Link, Transport, TransportSummary};

use crate::record::{CellRecord, CellStatus};
use crate::units::{fmt_dur, fmt_num};

/// One point of the matrix with its repetitions folded into medians: what charts and verdicts use.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub transport: Transport,
    pub clients: Option<u64>,
    pub rate: Option<f64>,
    pub poll_interval: Option<Duration>,
    pub action_rate: Option<f64>,
    /// How the clients reached the server (HTTP version, TLS, tabs per connection).
    pub link: Link,
    /// The server measured, when the experiment has a `targets` axis.
    pub target: Option<TargetKind>,
    /// Repetitions that measured something.
    pub runs: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub floor_p50_us: f64,
    pub requests_per_tick: f64,
    pub empty_pct: f64,
    pub bytes_per_tick: f64,
    pub server_cpu_us_per_tick: f64,
    pub deliveries_per_s: f64,
    /// Server resident set size at the end of the window, bytes.
    pub server_rss_bytes: f64,
    /// Requests per second per client.
    pub requests_per_s_per_client: f64,
    /// Ticks delivered, summed over repetitions. With none, the latencies are NaN (no samples).
    pub delivered: u64,
    /// Summed over repetitions: any loss or error is worth seeing.
    pub loss: u64,
    pub errors: u64,
    /// Fewest clients that received a tick in any repetition.
    pub clients_receiving: u64,
    /// Clients asked for (from the summary, which knows the default when the cell said none).
    pub clients_asked: u64,
    /// Any repetition saturated the load generator / was cut short.
    pub saturated: bool,
    pub incomplete: bool,
}

impl Point {
    /// No loss, no errors, every client served, instrument not saturated, full window.
    pub fn clean(&self) -> bool {
        self.loss == 0
            && self.errors == 0
            && !self.saturated
            && !self.incomplete
            && self.clients_receiving >= self.clients_asked
    }

    /// `sse, 100 clients, 5 ticks/s`: for verdict sentences.
    pub fn label(&self) -> String {
        let mut s = self.transport.name().to_string();
        if let Some(c) = self.clients {
            s.push_str(&format!(" c={c}"));
        }
        if let Some(r) = self.rate {
            s.push_str(&format!(" rate={}", fmt_num(r)));
        }
        if let Some(i) = self.poll_interval {
            s.push_str(&format!(" every {}", fmt_dur(i)));
        }
        if let Some(a) = self.action_rate {
            s.push_str(&format!(" actions={}/s", fmt_num(a)));
        }
        if self.link != Link::default() {
            s.push_str(&format!(" {}", self.link));
        }
        if let Some(t) = self.target {
            s.push_str(&format!(" on {t}"));
        }
        s
    }
}

/// Folds the cells that measured something into one [`Point`] per parameter combination (the
/// repetitions' median of each metric), in first-run order.
pub fn points(cells: &[CellRecord]) -> Vec<Point> {
    type Key = (
        Transport,
        Option<u64>,
        Option<u64>,
        Option<Duration>,
        Option<u64>,
        Option<Link>,
        Option<TargetKind>,
    );
    let mut groups: BTreeMap<usize, (Key, Vec<&CellRecord>)> = BTreeMap::new();
    let mut order: Vec<Key> = Vec::new();
    for c in cells {
        if c.phase().is_none() {
            continue;
        }
        let key: Key = (
            c.cell.transport,
            c.cell.clients,
            c.cell.rate.map(f64::to_bits),
            c.cell.poll_interval,
            c.cell.action_rate.map(f64::to_bits),
            c.cell.link,
            c.cell.target,
        );
        let pos = match order.iter().position(|k| *k == key) {
            Some(p) => p,
            None => {
                order.push(key);
                order.len() - 1
            }
        };
        groups
            .entry(pos)
            .or_insert_with(|| (key, Vec::new()))
            .1
            .push(c);
    }
    groups
        .into_values()
        .map(|(_, group)| {
            let phases: Vec<&TransportSummary> = group.iter().filter_map(|c| c.phase()).collect();
            let m = |f: &dyn Fn(&CellRecord, &TransportSummary) -> f64| {
                median(group.iter().zip(&phases).map(|(c, p)| f(c, p)).collect())
            };
            let first = &group[0].cell;
            Point {
                transport: first.transport,
                clients: first.clients,
                rate: first.rate,
                poll_interval: first.poll_interval,
                action_rate: first.action_rate,
                link: first
                    .link
                    .or_else(|| phases.first().map(|p| p.link))
                    .unwrap_or_default(),
                target: first.target,
                runs: phases.len(),
                // Only phases that delivered something have a latency distribution.
                p50_us: lat(&phases, |p| p.latency_us.p50),
                p99_us: lat(&phases, |p| p.latency_us.p99),
                floor_p50_us: m(&|c, _| c.floor().map(|f| f.p50).unwrap_or(0.0)),
                requests_per_tick: m(&|_, p| p.requests_per_tick()),
                empty_pct: m(&|_, p| p.empty_pct()),
                bytes_per_tick: m(&|_, p| p.bytes_per_tick()),
                server_cpu_us_per_tick: m(&|_, p| p.server_cpu_us_per_tick()),
                deliveries_per_s: m(&|_, p| p.deliveries_per_s()),
                server_rss_bytes: m(&|_, p| p.server_rss_bytes as f64),
                requests_per_s_per_client: m(&|_, p| {
                    if p.duration_s > 0.0 && p.clients > 0 {
                        p.requests as f64 / p.duration_s / p.clients as f64
                    } else {
                        0.0
                    }
                }),
                delivered: phases.iter().map(|p| p.delivered).sum(),
                loss: phases.iter().map(|p| p.loss()).sum(),
                errors: phases.iter().map(|p| p.error_count()).sum(),
                clients_receiving: phases
                    .iter()
                    .map(|p| p.clients_receiving)
                    .min()
                    .unwrap_or(0),
                clients_asked: phases.iter().map(|p| p.clients).max().unwrap_or(0),
                saturated: phases.iter().any(|p| p.saturated),
                incomplete: group.iter().any(|c| {
                    c.status != CellStatus::Done || c.summary.as_ref().is_some_and(|s| !s.complete)
                }),
            }
        })
        .collect()
}

/// Median latency over the phases that delivered ticks; NaN when none did.
fn lat(phases: &[&TransportSummary], f: fn(&TransportSummary) -> u64) -> f64 {
    let v: Vec<f64> = phases
        .iter()
        .filter(|p| p.delivered > 0)
        .map(|p| f(p) as f64)
        .collect();
    if v.is_empty() {
        f64::NAN
    } else {
        median(v)
    }
}

/// Median (mean of the middle two for an even count); 0 for no values.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_support::*;

    #[test]
    fn repetitions_fold_into_medians() {
        let mut cells = Vec::new();
        for (rep, p50) in [(1, 100), (2, 300), (3, 200)] {
            let mut c = mk_cell(Transport::Sse);
            c.repetition = rep;
            let mut p = phase("sse");
            p.latency_us.p50 = p50;
            cells.push(cell(0, c, p));
        }
        let mut other = mk_cell(Transport::Sse);
        other.clients = Some(1000);
        cells.push(cell(0, other, phase("sse")));
        let pts = points(&cells);
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0].runs, 3);
        assert_eq!(pts[0].p50_us, 200.0);
        assert_eq!(pts[0].requests_per_tick, 0.05);
        assert_eq!(pts[0].empty_pct, 20.0);
        assert_eq!(pts[0].requests_per_s_per_client, 0.5);
        assert!(pts[0].clean());
        assert_eq!(pts[1].clients, Some(1000));

        // a point that delivered nothing has no latency, not a latency of 0
        let mut p = phase("sse");
        p.delivered = 0;
        p.latency_us = Default::default();
        let pts = points(&[cell(0, mk_cell(Transport::Sse), p)]);
        assert!(pts[0].p50_us.is_nan());
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }
}
