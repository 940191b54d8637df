//! Writing `summary.json` (reading is `results::read`). Writes are atomic (a temporary file renamed
//! over the old one), so a reader never sees half a file, and the run writes a `complete: false`
//! summary before it measures anything, so an interrupted run can never pass for a complete one.

use std::path::Path;

use hdrhistogram::Histogram;
use tickbench_wire::{LatencySummary, Summary};

use crate::error::Error;

/// The latency figures of a merged histogram (all zero when nothing was recorded).
pub fn latency_summary(h: &Histogram<u64>) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary::default();
    }
    LatencySummary {
        min: h.min(),
        p50: h.value_at_quantile(0.5),
        p90: h.value_at_quantile(0.9),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
        mean: h.mean(),
    }
}

/// Writes `summary` to `path` atomically.
pub fn write_summary(path: &Path, summary: &Summary) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(summary).map_err(|e| Error::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &json)
}

/// Writes `bytes` to a sibling temporary file, syncs it and renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(Error::write(&tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(Error::write(&tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::write(path))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tickbench_wire::{Floor, TransportSummary, SCHEMA_VERSION};

    pub(crate) fn sample_summary() -> Summary {
        let mut h = crate::stats::new_histogram();
        for v in 1..=1000 {
            h.record(v * 100).unwrap();
        }
        let mut errors = BTreeMap::new();
        errors.insert("status_503".to_string(), 2);
        let mut extra = BTreeMap::new();
        extra.insert("negative_latency".to_string(), 0.0);
        Summary {
            schema: SCHEMA_VERSION,
            tickbench_version: "0.1.0".into(),
            label: "test".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            complete: true,
            config: serde_json::json!({"clients": 10}),
            floor_us: Floor {
                p50: 12.5,
                p99: 30.0,
            },
            floor_cross_us: None,
            fanout_floor: None,
            transports: vec![TransportSummary {
                name: "poll".into(),
                clients: 10,
                clients_receiving: 10,
                duration_s: 2.0,
                delivered: 1000,
                gaps: 0,
                duplicates: 0,
                out_of_order: 0,
                gap_notices: 0,
                latency_us: latency_summary(&h),
                requests: 20,
                empty_responses: 3,
                bytes: 123_456,
                errors,
                reconnects: 0,
                first_tick_ms_p50: 900.0,
                server_cpu_s: 0.25,
                loadgen_cpu_s: 0.5,
                server_rss_bytes: 10 << 20,
                loadgen_rss_bytes: 20 << 20,
                saturated: false,
                saturation_reasons: vec![],
                schedule_lag_us_p99: 150,
                floor_multiples: None,
                steal_pct: None,
                bare_http: None,
                takeover: None,
                link: tickbench_wire::Link::default(),
                extra,
            }],
            browser: None,
            hgrm_unit: tickbench_wire::HgrmUnit::Ms,
            host: None,
        }
    }
}
