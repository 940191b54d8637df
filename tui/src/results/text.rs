//! The non-interactive renderings of `tickbench show` (stdout not a terminal, `--plain`,
//! `--format`): each run's table as text, then the deltas when two are given; or the runs as JSON
//! or CSV for programs.
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

/// `--format json`: the summary as stored, pretty-printed; two runs as an array `[A, B]`.
pub fn json_report(runs: &[LoadedRun]) -> String {
    let text = match runs {
        [one] => serde_json::to_string_pretty(&one.summary),
        _ => serde_json::to_string_pretty(&runs.iter().map(|r| &r.summary).collect::<Vec<_>>()),
    };
    // Serializing a `Summary` cannot fail (string keys, finite or null floats).
    text.unwrap_or_default() + "\n"
}

/// Columns of `--format csv`: the table's figures unrounded, latencies in µs as stored.
pub const CSV_HEADER: [&str; 20] = [
    "run",
    "label",
    "complete",
    "transport",
    "clients",
    "duration_s",
    "delivered",
    "deliveries_per_s",
    "requests_per_tick",
    "empty_pct",
    "bytes_per_tick",
    "latency_p50_us",
    "latency_p90_us",
    "latency_p99_us",
    "latency_p999_us",
    "latency_max_us",
    "loss",
    "gap_notices",
    "server_cpu_us_per_tick",
    "saturated",
];

/// `--format csv`: one row per run and transport (`run` is the path given).
pub fn csv_report(runs: &[LoadedRun]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in runs {
        let s = &r.summary;
        for t in &s.transports {
            let l = &t.latency_us;
            rows.push(vec![
                r.path.display().to_string(),
                s.label.clone(),
                s.complete.to_string(),
                t.name.clone(),
                t.clients.to_string(),
                t.duration_s.to_string(),
                t.delivered.to_string(),
                t.deliveries_per_s().to_string(),
                t.requests_per_tick().to_string(),
                t.empty_pct().to_string(),
                t.bytes_per_tick().to_string(),
                l.p50.to_string(),
                l.p90.to_string(),
                l.p99.to_string(),
                l.p999.to_string(),
                l.max.to_string(),
                t.loss().to_string(),
                t.gap_notices.to_string(),
                t.server_cpu_us_per_tick().to_string(),
                t.saturated.to_string(),
            ]);
        }
    }
    // Writing to a Vec cannot fail.
    let _ = w.write_record(CSV_HEADER);
    for row in rows {
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
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
