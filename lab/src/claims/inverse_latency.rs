//! The piggyback claim: latency inversely proportional to the client's own request rate, judged by
//! the log-log slope of median latency against action rate.

use tickbench_wire::Transport;

use super::evidence::{by, fit, has_latency, inconclusive};
use crate::points::Point;
use crate::units::{fmt_num, fmt_us};
use crate::verdict::{Outcome, Verdict};

pub(crate) fn inverse_latency(points: &[Point], transport: Transport, lo: f64, hi: f64) -> Verdict {
    let mut pts: Vec<&Point> = points
        .iter()
        .filter(|p| p.transport == transport && p.action_rate.is_some() && has_latency(p))
        .collect();
    pts.sort_by(by(|p| p.action_rate.unwrap_or(0.0)));
    if pts.len() < 2 {
        return inconclusive(format!(
            "Needs {transport} at two or more action rates; this run has {}.",
            pts.len()
        ));
    }
    let xs: Vec<f64> = pts
        .iter()
        .map(|p| p.action_rate.unwrap_or(1.0).ln())
        .collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.p50_us.ln()).collect();
    let Some((slope, _)) = fit(&xs, &ys) else {
        return inconclusive("The action rates do not vary; no slope to fit.");
    };
    let rows: Vec<String> = pts
        .iter()
        .map(|p| {
            let a = p.action_rate.unwrap_or(1.0);
            format!(
                "{} at {}/s (p50 × rate = {:.2})",
                fmt_us(p.p50_us),
                fmt_num(a),
                p.p50_us / 1e6 * a
            )
        })
        .collect();
    let outcome = if (lo..=hi).contains(&slope) {
        Outcome::Held
    } else if slope < 0.0 {
        Outcome::PartlyHeld
    } else {
        Outcome::NotHeld
    };
    let meaning = match outcome {
        Outcome::Held => "latency is inversely proportional to how often the client talks to the server, as claimed",
        Outcome::PartlyHeld => "latency falls as the client talks more, but not in proportion",
        _ => "latency does not fall as the client talks more",
    };
    Verdict {
        outcome,
        paragraph: format!(
            "Median {transport} latency: {}. The log-log slope of median latency \
             against the client's own request rate is {slope:.2} (−1 would be exactly inverse; \
             held within [{lo}, {hi}]): {meaning}. A {transport} client only learns of ticks when \
             it makes a request, so a quiet client sees stale prices.",
            rows.join(", ")
        ),
    }
}
