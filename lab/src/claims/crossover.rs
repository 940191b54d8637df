//! The long-poll crossover claim: the tick rate from which a held-request transport is `factor` ×
//! slower than the best streaming one, its requests turning into a polling loop.

use tickbench_wire::Transport;

use super::evidence::{by, has_latency, inconclusive, is_streamed, rate_of};
use crate::points::Point;
use crate::units::fmt_us;
use crate::verdict::{Outcome, Verdict};

pub(crate) fn crossover(points: &[Point], transport: Transport, factor: f64) -> Verdict {
    let mut lp: Vec<&Point> = points
        .iter()
        .filter(|p| p.transport == transport && has_latency(p))
        .collect();
    lp.sort_by(by(|p| p.rate.unwrap_or(0.0)));
    let streams: Vec<&Point> = points
        .iter()
        .filter(|p| is_streamed(p.transport) && has_latency(p))
        .collect();
    if lp.len() < 2 || streams.is_empty() {
        return inconclusive(format!(
            "Needs {transport} at two or more tick rates and at least one streaming transport; \
             this run has {} {transport} points and {} streaming points.",
            lp.len(),
            streams.len()
        ));
    }
    let mut rows = Vec::new();
    let mut cross: Option<&Point> = None;
    for p in &lp {
        let best = streams
            .iter()
            .filter(|s| s.rate == p.rate && s.clients == p.clients)
            .min_by(|a, b| a.p50_us.total_cmp(&b.p50_us));
        if let Some(s) = best {
            let ratio = p.p50_us / s.p50_us.max(1.0);
            rows.push(format!(
                "{}: {} vs {} {} ({ratio:.1}×), {:.2} requests/s per client",
                rate_of(p),
                fmt_us(p.p50_us),
                s.transport,
                fmt_us(s.p50_us),
                p.requests_per_s_per_client
            ));
            if cross.is_none() && ratio >= factor {
                cross = Some(p);
            }
        }
    }
    let (lo, hi) = (lp[0], lp[lp.len() - 1]);
    let growth = hi.requests_per_s_per_client / lo.requests_per_s_per_client.max(1e-9);
    let mut text = format!(
        "Median latency of {transport} against the best streaming transport: {}. ",
        rows.join("; ")
    );
    let loops = growth >= 2.0;
    text.push_str(&format!(
        "From {} to {} each {transport} client's request rate went from {:.2}/s to {:.2}/s \
         ({growth:.1}×) and its empty answers from {:.1} % to {:.1} %{}. ",
        rate_of(lo),
        rate_of(hi),
        lo.requests_per_s_per_client,
        hi.requests_per_s_per_client,
        lo.empty_pct,
        hi.empty_pct,
        if loops {
            ": held requests turn into a request loop, i.e. polling"
        } else {
            ": no sign of a request loop"
        }
    ));
    match cross {
        Some(p) if std::ptr::eq(p, lo) => text.push_str(&format!(
            "{transport} was already {factor:.0}× slower than streaming at the lowest rate tested, \
             so the crossover lies at or below {}.",
            rate_of(p)
        )),
        Some(p) => text.push_str(&format!(
            "Crossover: from {} on, {transport} is at least {factor:.0}× slower than streaming.",
            rate_of(p)
        )),
        None => text.push_str(&format!(
            "{transport} never became {factor:.0}× slower than streaming in the rates tested: no \
             crossover found."
        )),
    }
    let outcome = match (cross.is_some(), loops) {
        (true, true) => Outcome::Held,
        (false, false) => Outcome::NotHeld,
        _ => Outcome::PartlyHeld,
    };
    text.insert_str(
        0,
        &format!(
            "The claim that long-poll degrades toward polling as updates get frequent {}. ",
            outcome.as_str()
        ),
    );
    Verdict {
        outcome,
        paragraph: text,
    }
}
