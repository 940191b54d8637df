//! The reading of points every claim analysis shares: transport kinds, measured latency, ordering,
//! the least-squares fit the slopes come from.

use tickbench_wire::transport::Kind;
use tickbench_wire::Transport;

use crate::points::Point;
use crate::units::fmt_num;
use crate::verdict::{Outcome, Verdict};

/// Asks on its own schedule (the transports whose empty answers are polling's waste).
pub(crate) fn is_polled(t: Transport) -> bool {
    match t.kind() {
        Kind::Polled => true,
        Kind::Piggyback | Kind::Held | Kind::Stream | Kind::Duplex => false,
    }
}

/// Holds one request until a tick matches (long-poll and its kin).
pub(crate) fn is_held(t: Transport) -> bool {
    match t.kind() {
        Kind::Held => true,
        Kind::Polled | Kind::Piggyback | Kind::Stream | Kind::Duplex => false,
    }
}

/// Keeps one response (or WebSocket) open and pushes every tick into it.
pub(crate) fn is_streamed(t: Transport) -> bool {
    match t.kind() {
        Kind::Stream | Kind::Duplex => true,
        Kind::Polled | Kind::Piggyback | Kind::Held => false,
    }
}

/// The point measured a latency (it delivered ticks).
pub(crate) fn has_latency(p: &Point) -> bool {
    p.delivered > 0 && p.p50_us.is_finite()
}

pub(crate) fn inconclusive(why: impl Into<String>) -> Verdict {
    Verdict {
        outcome: Outcome::Inconclusive,
        paragraph: why.into(),
    }
}

pub(crate) fn rate_of(p: &Point) -> String {
    p.rate
        .map(|r| format!("{} ticks/s", fmt_num(r)))
        .unwrap_or_else(|| "the default rate".into())
}

pub(crate) fn by<F: Fn(&Point) -> f64>(f: F) -> impl FnMut(&&Point, &&Point) -> std::cmp::Ordering {
    move |a, b| f(a).total_cmp(&f(b))
}

/// Least-squares line `y = slope·x + intercept`; `None` when x does not vary.
pub fn fit(xs: &[f64], ys: &[f64]) -> Option<(f64, f64)> {
    let n = xs.len().min(ys.len()) as f64;
    if n < 2.0 {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx <= f64::EPSILON {
        return None;
    }
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}
