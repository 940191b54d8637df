//! The views of a [`Comparison`]: the Markdown table, the JSON object with the verdict, the
//! github-action-benchmark array, the `key=value` verdict for shell scripts.
//!
//! `--format json` prints one object: `verdict` (`pass`, `regression`, `bad-input`), `regressed`
//! (the phases with a regression), `regressions` and `warnings` (row counts), `baseline`,
//! `current` and `rows` (every gated metric: `phase`, `metric`, `unit`, `baseline`, `current`,
//! `delta`, `limit`, `verdict`). Bad input prints `verdict: "bad-input"` and an `error`.
//!
//! `--format gate` prints, one per line:
//!
//! ```text
//! verdict=pass|regression|bad-input
//! regressed=<phase>,<phase>     (transport names for a summary.json, cell ids for a sweep.json)
//! regressions=<rows that regressed>
//! warnings=<warning rows>
//! ```
//!
//! A shell reads it with `sed -n 's/^regressed=//p'` and needs no JSON tool; the decision itself
//! (which phases failed, whether the run passes) is made here, not in the script.

use std::fmt::Write as _;

use super::model::{Comparison, GateVerdict, RowVerdict};

impl RowVerdict {
    /// The verdict in JSON: `ok`, `better`, `regression`, `warning`, `info`.
    fn name(self) -> &'static str {
        match self {
            RowVerdict::Ok => "ok",
            RowVerdict::Better => "better",
            RowVerdict::Regression => "regression",
            RowVerdict::Warning => "warning",
            RowVerdict::Info => "info",
        }
    }

    /// The verdict cell of the Markdown table.
    fn md(self) -> &'static str {
        match self {
            RowVerdict::Ok => "ok",
            RowVerdict::Better => "better",
            RowVerdict::Regression => "**REGRESSION**",
            RowVerdict::Warning => "**WARNING**",
            RowVerdict::Info => "info",
        }
    }
}

impl Comparison {
    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "## tickbench compare\n");
        let _ = writeln!(s, "- baseline: {}", self.baseline);
        let _ = writeln!(s, "- current: {}\n", self.current);
        let _ = writeln!(
            s,
            "| phase | metric | baseline | current | delta | limit | verdict |"
        );
        let _ = writeln!(s, "|---|---|---:|---:|---:|---|---|");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.key,
                if r.unit.is_empty() {
                    r.metric.clone()
                } else {
                    format!("{} ({})", r.metric, r.unit)
                },
                fmt_opt(r.baseline),
                fmt_opt(r.current),
                r.delta,
                r.limit,
                r.verdict.md()
            );
        }
        let (reg, warn) = (self.regressions(), self.warnings());
        let _ = writeln!(
            s,
            "\n**{}**: {reg} regression{}, {warn} warning{}{}.",
            if self.exit_code() == 0 {
                "PASS"
            } else {
                "FAIL"
            },
            if reg == 1 { "" } else { "s" },
            if warn == 1 { "" } else { "s" },
            if self.strict && warn > 0 {
                " (warnings fail under --strict)"
            } else {
                ""
            }
        );
        s
    }

    /// The comparison and its verdict (`--format json`; layout in the module docs).
    pub fn json(&self) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "phase": r.key,
                    "metric": r.metric,
                    "unit": r.unit,
                    "baseline": r.baseline,
                    "current": r.current,
                    "delta": r.delta,
                    "limit": r.limit,
                    "verdict": r.verdict.name(),
                })
            })
            .collect();
        serde_json::json!({
            "verdict": self.verdict().as_str(),
            "regressed": self.regressed(),
            "regressions": self.regressions(),
            "warnings": self.warnings(),
            "baseline": self.baseline,
            "current": self.current,
            "rows": rows,
        })
    }

    /// github-action-benchmark "customSmallerIsBetter": `[{"name","unit","value","range","extra"}]`,
    /// one entry per gated metric of the current run (`--format benchmark`).
    pub fn benchmark(&self) -> serde_json::Value {
        let items: Vec<serde_json::Value> = self
            .rows
            .iter()
            .filter(|r| r.chartable)
            .filter_map(|r| {
                let value = r.current?;
                let mut o = serde_json::json!({
                    "name": format!("{} - {}", r.key, r.metric),
                    "unit": r.unit,
                    "value": round(value),
                });
                if !r.limit.is_empty() {
                    o["range"] = serde_json::Value::String(r.limit.clone());
                }
                o["extra"] = serde_json::Value::String(format!(
                    "baseline {}; delta {}; {}",
                    fmt_opt(r.baseline),
                    r.delta,
                    match r.verdict {
                        RowVerdict::Regression => "REGRESSION",
                        RowVerdict::Better => "better",
                        _ => "ok",
                    }
                ));
                Some(o)
            })
            .collect();
        serde_json::Value::Array(items)
    }

    /// The verdict for scripts (`--format gate`; layout in the module docs).
    pub fn gate(&self) -> String {
        format!(
            "verdict={}\nregressed={}\nregressions={}\nwarnings={}\n",
            self.verdict().as_str(),
            self.regressed().join(","),
            self.regressions(),
            self.warnings()
        )
    }
}

/// Four decimals: enough for a dashboard, short in the JSON.
fn round(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

/// A table cell: `–` for none, integers bare, otherwise 1 or 3 decimals.
pub(crate) fn fmt_opt(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v == v.trunc() && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) if v.abs() >= 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.3}"),
    }
}

/// `--format json` for input that could not be compared: the verdict and the reason.
pub fn json_bad_input(error: &str) -> serde_json::Value {
    serde_json::json!({
        "verdict": GateVerdict::BadInput.as_str(),
        "regressed": [],
        "regressions": 0,
        "warnings": 0,
        "error": error,
    })
}

/// `--format gate` for input that could not be compared: the verdict and the one-line reason.
pub fn gate_bad_input(error: &str) -> String {
    format!(
        "verdict={}\nregressed=\nregressions=0\nwarnings=0\nerror={}\n",
        GateVerdict::BadInput.as_str(),
        error.replace('\n', " ")
    )
}
