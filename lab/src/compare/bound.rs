//! How one metric's bound turns a baseline and a current value into a row of the table.

use super::model::{Row, RowVerdict};
use super::render::fmt_opt;

/// How a gated metric is bounded.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Gate {
    /// current ≤ max (loss).
    AtMost(u64),
    /// current ≤ base × (1 + tol) unless within `slack` of the baseline.
    Relative {
        tol: f64,
        slack: f64,
    },
    /// current ≤ base + tol (percentage points).
    Points(f64),
    Info,
}

/// The row of a metric bounded by `gate`.
pub(crate) fn gated(
    key: &str,
    metric: &str,
    unit: &'static str,
    base: f64,
    cur: f64,
    gate: Gate,
) -> Row {
    let (delta, limit, verdict) = match gate {
        Gate::AtMost(max) => (
            format!("{:+}", cur - base),
            format!("≤ {max}"),
            if cur > max as f64 {
                RowVerdict::Regression
            } else {
                RowVerdict::Ok
            },
        ),
        Gate::Relative { tol, slack } => {
            let limit_v = base * (1.0 + tol);
            let verdict = if cur > limit_v && cur - base > slack {
                RowVerdict::Regression
            } else if cur < base / (1.0 + tol) && base - cur > slack {
                RowVerdict::Better
            } else {
                RowVerdict::Ok
            };
            (
                rel_delta(base, cur),
                format!("≤ {} (+{:.0} %)", fmt_opt(Some(limit_v)), tol * 100.0),
                verdict,
            )
        }
        Gate::Points(tol) => {
            let verdict = if cur > base + tol {
                RowVerdict::Regression
            } else if cur < base - tol {
                RowVerdict::Better
            } else {
                RowVerdict::Ok
            };
            (
                format!("{:+.1} pts", cur - base),
                format!("≤ {:.1} (+{tol} pts)", base + tol),
                verdict,
            )
        }
        Gate::Info => (rel_delta(base, cur), String::new(), RowVerdict::Info),
    };
    Row {
        key: key.into(),
        metric: metric.into(),
        unit,
        baseline: Some(base),
        current: Some(cur),
        delta,
        limit,
        verdict,
        chartable: !matches!(gate, Gate::Info),
    }
}

/// `+12.0 %`, `new` (from zero), or `0`.
pub(crate) fn rel_delta(base: f64, cur: f64) -> String {
    if base.abs() > f64::EPSILON {
        format!("{:+.1} %", 100.0 * (cur - base) / base)
    } else if cur.abs() > f64::EPSILON {
        "new".into()
    } else {
        "0".into()
    }
}

/// A warning row: shown loudly, fails only under `--strict`.
pub(crate) fn warning(
    key: &str,
    metric: &str,
    base: Option<f64>,
    cur: Option<f64>,
    note: String,
) -> Row {
    Row {
        key: key.into(),
        metric: metric.into(),
        unit: "",
        baseline: base,
        current: cur,
        delta: note,
        limit: String::new(),
        verdict: RowVerdict::Warning,
        chartable: false,
    }
}
