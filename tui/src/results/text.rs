//! The non-interactive rendering of `tickbench show` (stdout not a terminal, or `--plain`): each
//! run's table as text, then the deltas when two are given.

use crate::results::delta::{delta_pct, find, DELTA_METRICS};
use crate::results::load::{transport_names, LoadedRun};
use crate::widgets::table::{self, CompRow};

/// The non-interactive rendering: each run's table as text, then the deltas when two are given.
pub fn text_report(runs: &[LoadedRun]) -> String {
    let mut out = String::new();
    for (i, r) in runs.iter().enumerate() {
        let s = &r.summary;
        if runs.len() > 1 {
            out.push_str(if i == 0 { "A: " } else { "B: " });
        }
        out.push_str(&format!(
            "{} (started {}, tickbench {}){}\n",
            if s.label.is_empty() {
                "(unlabelled)"
            } else {
                &s.label
            },
            s.started_at,
            s.tickbench_version,
            if s.complete {
                ""
            } else {
                " INCOMPLETE: interrupted run"
            }
        ));
        let rows: Vec<CompRow> = s.transports.iter().map(CompRow::from_summary).collect();
        out.push_str(&table::text_table(&rows, Some(s.floor_us)));
        for t in s.transports.iter().filter(|t| t.saturated) {
            out.push_str(&format!(
                "SATURATED {}: {}\n",
                t.name,
                t.saturation_reasons.join("; ")
            ));
        }
        out.push('\n');
    }
    if let [a, b] = runs {
        let names = transport_names(runs);
        let mut lines = vec![std::iter::once("transport".to_string())
            .chain(DELTA_METRICS.iter().map(|m| format!("{} A→B", m.0)))
            .collect::<Vec<_>>()];
        for n in &names {
            let (ta, tb) = (find(a, n), find(b, n));
            let mut l = vec![n.clone()];
            for (_, f, fmt, _) in DELTA_METRICS {
                l.push(match (ta.map(f), tb.map(f)) {
                    (Some(x), Some(y)) => {
                        format!("{} → {} ({})", fmt(x), fmt(y), delta_pct(x, y).0)
                    }
                    (None, Some(y)) => format!("new {}", fmt(y)),
                    (Some(x), None) => format!("{} → gone", fmt(x)),
                    (None, None) => "-".into(),
                });
            }
            lines.push(l);
        }
        out.push_str("B vs A\n");
        out.push_str(&table::align(&lines));
    }
    out
}
