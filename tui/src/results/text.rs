//! The non-interactive rendering of `tickbench show` (stdout not a terminal, or `--plain`): each
//! run's table as text, then the deltas when two are given.
//!
//! A run's table is the plain view of the one table model ([`Table::plain`]) followed by the
//! run's warnings and loopback floor, exactly as `tickbench run --no-tui` prints them, so the same
//! run reads the same in a CI log whichever command printed it.

use tickbench_loadgen::results::report::floor_line;
use tickbench_loadgen::results::table::Table;
use tickbench_loadgen::results::warnings;

use crate::results::delta::{delta_pct, find, DELTA_METRICS};
use crate::results::load::{transport_names, LoadedRun};

/// The non-interactive rendering: each run's table as text, then the deltas when two are given.
pub fn text_report(runs: &[LoadedRun]) -> String {
    let mut out = String::new();
    for (i, r) in runs.iter().enumerate() {
        let s = &r.summary;
        if runs.len() > 1 {
            out.push_str(if i == 0 { "A: " } else { "B: " });
        }
        // An interrupted run says so in its warnings, below the table.
        out.push_str(&format!(
            "{} (started {}, tickbench {})\n",
            if s.label.is_empty() {
                "(unlabelled)"
            } else {
                &s.label
            },
            s.started_at,
            s.tickbench_version,
        ));
        out.push_str(&Table::from_summary(s).plain());
        for w in warnings(s) {
            out.push_str(&w);
            out.push('\n');
        }
        out.push_str(&floor_line(s));
        out.push_str("\n\n");
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
        out.push_str(&align(&lines));
    }
    out
}

/// Left-aligns the first column and right-aligns the others, two spaces apart.
fn align(lines: &[Vec<String>]) -> String {
    let n = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            lines
                .iter()
                .map(|l| l.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in lines {
        let mut line = String::new();
        for (c, cell) in l.iter().enumerate() {
            if c == 0 {
                line.push_str(&format!("{cell:<w$}", w = widths[0]));
            } else {
                line.push_str(&format!("  {cell:>w$}", w = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
