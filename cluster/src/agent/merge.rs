//! Merging agents' results into one run: their `latency.hlog` intervals (serialized V2
//! histograms, one per transport per second) added with `Histogram::add` per transport and
//! second, and their summary rows summed field by field, latency recomputed from the merged
//! histogram. Percentiles are never averaged.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use tickbench_loadgen::results::latency_summary;
use tickbench_loadgen::stats::new_histogram;
use tickbench_wire::{Summary, TransportSummary};

/// One agent's measured seconds: per transport (the hlog tag), per whole second since the run
/// started, the interval's length and histogram.
pub type Intervals = BTreeMap<String, BTreeMap<u64, (Duration, Histogram<u64>)>>;

/// Reads a `latency.hlog` text.
pub fn parse_hlog(text: &str) -> Result<Intervals, String> {
    let mut out = Intervals::new();
    let mut de = Deserializer::new();
    for entry in IntervalLogIterator::new(text.as_bytes()) {
        let entry = entry.map_err(|e| format!("bad latency.hlog line: {e:?}"))?;
        let LogEntry::Interval(i) = entry else {
            continue;
        };
        let tag = i
            .tag()
            .map(|t| t.as_str().to_string())
            .ok_or("an interval without a transport tag")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(i.encoded_histogram())
            .map_err(|e| format!("bad histogram encoding: {e}"))?;
        let h: Histogram<u64> = de
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| format!("bad histogram: {e:?}"))?;
        let second = i.start_timestamp().as_secs();
        add_into(out.entry(tag).or_default(), second, i.duration(), &h)?;
    }
    Ok(out)
}

fn add_into(
    seconds: &mut BTreeMap<u64, (Duration, Histogram<u64>)>,
    second: u64,
    length: Duration,
    h: &Histogram<u64>,
) -> Result<(), String> {
    let slot = seconds
        .entry(second)
        .or_insert_with(|| (length, new_histogram()));
    slot.0 = slot.0.max(length);
    slot.1.add(h).map_err(|e| format!("histogram add: {e:?}"))
}

/// Adds `b` into `a`, second by second.
pub fn merge_intervals(a: &mut Intervals, b: &Intervals) -> Result<(), String> {
    for (tag, seconds) in b {
        let into = a.entry(tag.clone()).or_default();
        for (&s, (len, h)) in seconds {
            add_into(into, s, *len, h)?;
        }
    }
    Ok(())
}

/// All of one transport's seconds in one histogram.
pub fn whole(seconds: &BTreeMap<u64, (Duration, Histogram<u64>)>) -> Histogram<u64> {
    let mut h = new_histogram();
    for (_, s) in seconds.values() {
        // Same bounds and precision everywhere (new_histogram): add cannot fail.
        let _ = h.add(s);
    }
    h
}

/// The run's summary from the agents' (`base` first): each transport row summed over the agents
/// that have it, latency from `merged`'s whole histogram of that transport. Figures that do not
/// add up (first-tick median, schedule lag p99) take the worst agent's; `extra` is dropped
/// (per-agent figures stay in the breakdown).
pub fn merge_summaries(summaries: &[&Summary], merged: &Intervals, label: &str) -> Option<Summary> {
    let base = summaries.first()?;
    let mut out = (*base).clone();
    out.label = label.to_string();
    out.complete = summaries.iter().all(|s| s.complete);
    out.fanout_floor = None;
    out.browser = None;
    for row in &mut out.transports {
        let rows: Vec<&TransportSummary> = summaries
            .iter()
            .filter_map(|s| s.transports.iter().find(|t| t.name == row.name))
            .collect();
        *row = sum_rows(&rows);
        row.latency_us = merged
            .get(&row.name)
            .map(|s| latency_summary(&whole(s)))
            .unwrap_or_default();
    }
    Some(out)
}

fn sum_rows(rows: &[&TransportSummary]) -> TransportSummary {
    let mut t = rows[0].clone();
    t.extra.clear();
    t.floor_multiples = None;
    for r in &rows[1..] {
        t.clients += r.clients;
        t.clients_receiving += r.clients_receiving;
        t.duration_s = t.duration_s.max(r.duration_s);
        t.delivered += r.delivered;
        t.gaps += r.gaps;
        t.duplicates += r.duplicates;
        t.out_of_order += r.out_of_order;
        t.gap_notices += r.gap_notices;
        t.requests += r.requests;
        t.empty_responses += r.empty_responses;
        t.bytes += r.bytes;
        for (k, v) in &r.errors {
            *t.errors.entry(k.clone()).or_default() += v;
        }
        t.reconnects += r.reconnects;
        t.first_tick_ms_p50 = t.first_tick_ms_p50.max(r.first_tick_ms_p50);
        t.loadgen_cpu_s += r.loadgen_cpu_s;
        t.loadgen_rss_bytes += r.loadgen_rss_bytes;
        t.saturated |= r.saturated;
        for why in &r.saturation_reasons {
            if !t.saturation_reasons.contains(why) {
                t.saturation_reasons.push(why.clone());
            }
        }
        t.schedule_lag_us_p99 = t.schedule_lag_us_p99.max(r.schedule_lag_us_p99);
        t.steal_pct = match (t.steal_pct, r.steal_pct) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn hlog(values: &[(u64, &[u64])]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.hlog");
        let start = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut w = tickbench_loadgen::results::hlog::HlogWriter::create(&path, start).unwrap();
        for (s, vs) in values {
            let mut h = new_histogram();
            for v in *vs {
                h.record(*v).unwrap();
            }
            w.append(
                "sse",
                start + Duration::from_secs(*s),
                Duration::from_secs(1),
                &h,
            )
            .unwrap();
        }
        w.flush().unwrap();
        let _ = SystemTime::now();
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn merged_seconds_hold_every_agents_samples() {
        let mut a = parse_hlog(&hlog(&[(1, &[100, 200]), (2, &[300])])).unwrap();
        let b = parse_hlog(&hlog(&[(1, &[5_000]), (3, &[7, 8, 9])])).unwrap();
        let counts = |i: &Intervals| whole(&i["sse"]).len();
        let (ca, cb) = (counts(&a), counts(&b));
        merge_intervals(&mut a, &b).unwrap();
        assert_eq!(counts(&a), ca + cb);
        assert_eq!(a["sse"][&1].1.len(), 3);
        assert_eq!(a["sse"][&1].1.max(), whole(&b["sse"]).max().max(200));
        assert_eq!(a["sse"].len(), 3);
    }
}
