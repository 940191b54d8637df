//! The polling-waste claim: the share of empty poll answers against a quoted figure, per event
//! rate, with the latency cost of a wider interval.

use super::evidence::{by, fit, has_latency, inconclusive, is_polled, rate_of};
use crate::points::Point;
use crate::units::{fmt_dur, fmt_us};
use crate::verdict::{Outcome, Verdict};

pub(crate) fn empty_share(
    points: &[Point],
    expected: f64,
    tol: f64,
    interval: Option<std::time::Duration>,
) -> Verdict {
    let polls: Vec<&Point> = points.iter().filter(|p| is_polled(p.transport)).collect();
    let mut judged: Vec<&Point> = polls
        .iter()
        .copied()
        .filter(|p| interval.is_none() || p.poll_interval == interval)
        .collect();
    if judged.is_empty() {
        return inconclusive("No polling cell with the judged interval measured anything.");
    }
    judged.sort_by(by(|p| p.rate.unwrap_or(0.0)));
    let within: Vec<&&Point> = judged
        .iter()
        .filter(|p| (p.empty_pct - expected).abs() <= tol)
        .collect();
    let shares: Vec<String> = judged
        .iter()
        .map(|p| format!("{:.1} % at {}", p.empty_pct, rate_of(p)))
        .collect();
    let at = interval
        .map(|i| format!("With a {} poll interval", fmt_dur(i)))
        .unwrap_or_else(|| "Across the poll cells".into());
    let mut text = format!(
        "{at}, the share of poll answers that came back empty was {}. ",
        shares.join(", ")
    );
    let outcome = if within.len() == judged.len() {
        text.push_str(&format!(
            "Every rate landed within {tol:.0} points of the quoted ~{expected:.0} %, so the claim held."
        ));
        Outcome::Held
    } else if !within.is_empty() {
        let rates: Vec<String> = within.iter().map(|p| rate_of(p)).collect();
        text.push_str(&format!(
            "The quoted ~{expected:.0} % (±{tol:.0} points) held only at {}: the waste is set by \
             how many events fall in one interval, not a constant share.",
            rates.join(", ")
        ));
        Outcome::PartlyHeld
    } else {
        text.push_str(&format!(
            "No rate came within {tol:.0} points of the quoted ~{expected:.0} %, so the figure did \
             not hold for these event rates."
        ));
        Outcome::NotHeld
    };
    // Latency cost of widening the interval: least-squares slope of p50 against the interval, per
    // rate, over every poll cell (not only the judged interval).
    let mut rates: Vec<Option<f64>> = polls.iter().map(|p| p.rate).collect();
    rates.sort_by(|a, b| a.unwrap_or(0.0).total_cmp(&b.unwrap_or(0.0)));
    rates.dedup();
    let mut costs = Vec::new();
    for r in rates {
        let mut pts: Vec<&Point> = polls
            .iter()
            .copied()
            .filter(|p| p.rate == r && p.poll_interval.is_some() && has_latency(p))
            .collect();
        pts.sort_by(by(|p| {
            p.poll_interval.map(|d| d.as_secs_f64()).unwrap_or(0.0)
        }));
        if pts.len() < 2 {
            continue;
        }
        let xs: Vec<f64> = pts
            .iter()
            .map(|p| p.poll_interval.unwrap_or_default().as_secs_f64())
            .collect();
        let ys: Vec<f64> = pts.iter().map(|p| p.p50_us / 1e3).collect();
        if let Some((slope, _)) = fit(&xs, &ys) {
            let (lo, hi) = (pts[0], pts[pts.len() - 1]);
            costs.push(format!(
                "at {} widening the interval from {} to {} moved median latency from {} to {} \
                 (≈{slope:.0} ms per extra second)",
                rate_of(lo),
                fmt_dur(lo.poll_interval.unwrap_or_default()),
                fmt_dur(hi.poll_interval.unwrap_or_default()),
                fmt_us(lo.p50_us),
                fmt_us(hi.p50_us)
            ));
        }
    }
    if !costs.is_empty() {
        text.push_str(&format!(
            " The price of a wider interval: {}; a tick that lands at a random moment waits half an \
             interval on average, i.e. ≈500 ms per second of interval.",
            costs.join("; ")
        ));
    }
    Verdict {
        outcome,
        paragraph: text,
    }
}
