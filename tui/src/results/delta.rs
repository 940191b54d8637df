//! Run B against run A: the metrics compared and the signed percentage each changed by, shared by
//! the delta table on screen and the text report.

use tickbench_wire::TransportSummary;

use crate::results::load::LoadedRun;
use crate::widgets::fmt::{fmt_num, fmt_us};

/// `new` relative to `old`, percent, signed: `+12%`, `-3%`, `±0%`, or `new` for a transport B
/// added.
pub fn delta_pct(old: f64, new: f64) -> (String, f64) {
    if old <= 0.0 {
        return (
            if new > 0.0 {
                "new".into()
            } else {
                "±0%".into()
            },
            0.0,
        );
    }
    let d = 100.0 * (new - old) / old;
    let s = if d.abs() < 0.5 {
        "±0%".to_string()
    } else {
        format!("{d:+.0}%")
    };
    (s, d)
}

/// `(column, value of a row, its format, higher is worse)`.
pub type Metric = (
    &'static str,
    fn(&TransportSummary) -> f64,
    fn(f64) -> String,
    bool,
);

/// The compared metrics, in column order.
pub const DELTA_METRICS: [Metric; 4] = [
    ("p50", |t| t.latency_us.p50 as f64, fmt_us, true),
    ("p99", |t| t.latency_us.p99 as f64, fmt_us, true),
    ("p99.9", |t| t.latency_us.p999 as f64, fmt_us, true),
    ("dlv/s", TransportSummary::deliveries_per_s, fmt_num, false),
];

/// Transport `name`'s row in run `r`.
pub fn find<'a>(r: &'a LoadedRun, name: &str) -> Option<&'a TransportSummary> {
    r.summary.transports.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas() {
        assert_eq!(delta_pct(100.0, 112.0).0, "+12%");
        assert_eq!(delta_pct(100.0, 100.2).0, "±0%");
        assert_eq!(delta_pct(0.0, 5.0).0, "new");
    }
}
