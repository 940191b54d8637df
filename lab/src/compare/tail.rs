//! The steadier tail statistic the gate judges latency tails by: for each phase, the **median
//! over its measured seconds of each second's p99**, read from the run's `latency.hlog` (one
//! histogram per transport per second, tagged with the transport's name).
//!
//! A phase's p99 over a 4 s window is decided by its worst few dozen samples, and one hypervisor
//! stall of tens of milliseconds supplies them: the smoke gate had to re-run such phases up to
//! four times. A stall spoils one second's p99, and the median of the seconds' p99s does not move
//! for it, while a server that got slower moves every second's p99, and so the median.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use tickbench_wire::Summary;

/// The key, in a phase's `extra` map, of the median of its seconds' p99s (µs). Set by
/// [`attach`] when the run's folder has a `latency.hlog`; a run without one is judged by its
/// whole-window p99 as before.
pub const P99_MEDIAN_KEY: &str = "latency_p99_median_of_seconds_us";

/// Reads `hlog` and returns, per tag (transport), the median over its intervals of each
/// interval's p99, µs. Intervals without samples are skipped; a line that cannot be decoded
/// ends the reading with what was read (a log cut short by an interrupted run).
pub fn median_p99_by_tag(hlog: &[u8]) -> BTreeMap<String, u64> {
    let mut p99s: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut de = Deserializer::new();
    for entry in IntervalLogIterator::new(hlog) {
        let Ok(LogEntry::Interval(i)) = entry else {
            if entry.is_err() {
                break;
            }
            continue;
        };
        let Some(tag) = i.tag() else { continue };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(i.encoded_histogram())
        else {
            break;
        };
        let Ok(h): Result<Histogram<u64>, _> = de.deserialize(&mut bytes.as_slice()) else {
            break;
        };
        if !h.is_empty() {
            p99s.entry(tag.as_str().to_string())
                .or_default()
                .push(h.value_at_quantile(0.99));
        }
    }
    p99s.into_iter()
        .map(|(tag, mut v)| {
            v.sort_unstable();
            // The lower median of an even count: a tail statistic should not be raised by
            // averaging in the worse of two middle seconds.
            let m = v[(v.len() - 1) / 2];
            (tag, m)
        })
        .collect()
}

/// Adds [`P99_MEDIAN_KEY`] to each transport of `summary` from the `latency.hlog` in `dir`, if
/// there is one (the phases the log has seconds of).
pub fn attach(summary: &mut Summary, dir: &Path) {
    let Ok(bytes) = std::fs::read(dir.join("latency.hlog")) else {
        return;
    };
    let medians = median_p99_by_tag(&bytes);
    for t in &mut summary.transports {
        if let Some(&m) = medians.get(&t.name) {
            t.extra.insert(P99_MEDIAN_KEY.into(), m as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};
    use tickbench_loadgen::results::hlog::HlogWriter;

    fn second(values: &[u64]) -> Histogram<u64> {
        let mut h = tickbench_loadgen::stats::new_histogram();
        for &v in values {
            h.record(v).unwrap();
        }
        h
    }

    /// One stalled second moves the whole window's p99 but not the median of the seconds' p99s.
    #[test]
    fn one_stall_does_not_move_the_median() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.hlog");
        let start = SystemTime::now();
        let mut w = HlogWriter::create(&path, start).unwrap();
        let normal: Vec<u64> = (1..=100).map(|i| 1_000 + i * 10).collect();
        let mut stalled = normal.clone();
        stalled.extend([80_000; 5]);
        for (s, values) in [&normal, &normal, &stalled, &normal]
            .into_iter()
            .enumerate()
        {
            w.append(
                "sse",
                start + Duration::from_secs(s as u64),
                Duration::from_secs(1),
                &second(values),
            )
            .unwrap();
        }
        w.append("poll", start, Duration::from_secs(1), &second(&[500_000]))
            .unwrap();
        w.flush().unwrap();
        let m = median_p99_by_tag(&std::fs::read(&path).unwrap());
        let normal_p99 = second(&normal).value_at_quantile(0.99);
        assert_eq!(m["sse"], normal_p99);
        assert!(second(&stalled).value_at_quantile(0.99) >= 79_000);
        assert!(m["poll"] >= 499_000);

        let mut s = crate::record::test_support::summary(vec![
            crate::record::test_support::phase("sse"),
            crate::record::test_support::phase("jsonp"),
        ]);
        attach(&mut s, dir.path());
        assert_eq!(s.transports[0].extra[P99_MEDIAN_KEY], normal_p99 as f64);
        assert!(!s.transports[1].extra.contains_key(P99_MEDIAN_KEY));
    }

    #[test]
    fn garbage_and_missing_logs_are_harmless() {
        assert!(median_p99_by_tag(b"not a log\n#comment\n").is_empty());
        let dir = tempfile::tempdir().unwrap();
        let mut s =
            crate::record::test_support::summary(vec![crate::record::test_support::phase("sse")]);
        attach(&mut s, dir.path());
        assert!(s.transports[0].extra.is_empty());
    }
}
