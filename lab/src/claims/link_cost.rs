//! The link-cost claim: a protocol setting (HTTP/2 multiplexing, TLS) costs the server at most
//! so much more CPU per delivery (and memory) and the clients at most so much more latency than
//! HTTP/1.1 in plaintext, one client per connection, measured on the same cells otherwise.

use tickbench_wire::Link;

use super::evidence::{has_latency, inconclusive};
use crate::points::Point;
use crate::units::fmt_us;
use crate::verdict::{Outcome, Verdict};

/// A median latency within the ratio, or within this much of the baseline's (µs): at a few
/// hundred µs on loopback a ratio alone would judge scheduling noise.
const LATENCY_SLACK_US: f64 = 1_000.0;

/// The limits of [`link_cost`]: variant ÷ baseline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub cpu: f64,
    pub latency: f64,
    /// Server memory; `None`: reported, not judged.
    pub rss: Option<f64>,
}

/// Every point whose link is not the default is paired with the default-link point of the same
/// transport, clients, rate and intervals; each pair holds when its ratios are within `lim`.
pub(crate) fn link_cost(points: &[Point], lim: Limits) -> Verdict {
    let same_cell = |a: &Point, b: &Point| {
        a.transport == b.transport
            && a.clients == b.clients
            && a.rate == b.rate
            && a.poll_interval == b.poll_interval
            && a.action_rate == b.action_rate
    };
    let mut sentences = Vec::new();
    let mut judged: Vec<Option<bool>> = Vec::new();
    for v in points.iter().filter(|p| p.link != Link::default()) {
        let Some(b) = points
            .iter()
            .find(|b| b.link == Link::default() && same_cell(b, v))
        else {
            continue;
        };
        let cpu = v.server_cpu_us_per_tick / b.server_cpu_us_per_tick.max(1e-9);
        let rss = v.server_rss_bytes / b.server_rss_bytes.max(1.0);
        let lat = v.p50_us / b.p50_us.max(1e-9);
        let lat_ok = v.p50_us <= b.p50_us * lim.latency || v.p50_us - b.p50_us <= LATENCY_SLACK_US;
        let ok = cpu <= lim.cpu && lat_ok && lim.rss.is_none_or(|m| rss <= m);
        let clean = v.clean() && b.clean() && has_latency(v) && has_latency(b);
        judged.push(if clean { Some(ok) } else { None });
        sentences.push(format!(
            "{}: server CPU {:.2} → {:.2} µs per delivery ({cpu:.2}×), p50 {} → {} ({lat:.2}×), \
             p99 {} → {}, server RSS {:.1} → {:.1} MiB ({rss:.2}×){}",
            v.label(),
            b.server_cpu_us_per_tick,
            v.server_cpu_us_per_tick,
            fmt_us(b.p50_us),
            fmt_us(v.p50_us),
            fmt_us(b.p99_us),
            fmt_us(v.p99_us),
            b.server_rss_bytes / 1048576.0,
            v.server_rss_bytes / 1048576.0,
            match (clean, ok) {
                (false, _) => " — not judged (loss, errors, unserved clients or saturation)",
                (true, true) => " — within the limits",
                (true, false) => " — over the limits",
            }
        ));
    }
    if judged.is_empty() {
        return inconclusive(
            "No point pairs a protocol setting with the same cell over HTTP/1.1 in plaintext.",
        );
    }
    let held = judged.iter().filter(|j| **j == Some(true)).count();
    let failed = judged.iter().filter(|j| **j == Some(false)).count();
    let outcome = if held == judged.len() {
        Outcome::Held
    } else if held > 0 {
        Outcome::PartlyHeld
    } else if failed > 0 {
        Outcome::NotHeld
    } else {
        Outcome::Inconclusive
    };
    let rss = match lim.rss {
        Some(m) => format!(", server memory at most {m:.2}×"),
        None => String::new(),
    };
    Verdict {
        outcome,
        paragraph: format!(
            "Against HTTP/1.1 in plaintext with one client per connection, the claim (server CPU \
             per delivery at most {:.2}×{rss}, median latency at most {:.2}× or {} more) {} in \
             {held} of {} pairs. {}.",
            lim.cpu,
            lim.latency,
            fmt_us(LATENCY_SLACK_US),
            outcome.as_str(),
            judged.len(),
            sentences.join("; ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use tickbench_wire::{HttpVersion, Transport};

    use super::*;
    use crate::claims::test_support::pt;

    fn h2(mut p: Point, cpu: f64, rss: f64) -> Point {
        p.link = Link {
            protocol: HttpVersion::H2,
            tls: false,
            tabs_per_conn: 100,
        };
        p.server_cpu_us_per_tick = cpu;
        p.server_rss_bytes = rss;
        p
    }

    fn lim() -> Limits {
        Limits {
            cpu: 1.0,
            latency: 1.5,
            rss: Some(1.0),
        }
    }

    #[test]
    fn cheaper_variants_hold_dearer_ones_do_not() {
        let mut base = pt(Transport::Sse);
        base.server_rss_bytes = 10e6;
        let v = link_cost(&[base.clone(), h2(pt(Transport::Sse), 4.0, 9e6)], lim());
        assert_eq!(v.outcome, Outcome::Held, "{}", v.paragraph);
        assert!(v.paragraph.contains("0.80×"), "{}", v.paragraph);
        let v = link_cost(&[base.clone(), h2(pt(Transport::Sse), 6.0, 9e6)], lim());
        assert_eq!(v.outcome, Outcome::NotHeld, "{}", v.paragraph);
        let mut lp = pt(Transport::Longpoll);
        lp.server_rss_bytes = 10e6;
        let v = link_cost(
            &[
                base,
                h2(pt(Transport::Sse), 4.0, 9e6),
                lp,
                h2(pt(Transport::Longpoll), 4.0, 11e6),
            ],
            lim(),
        );
        assert_eq!(v.outcome, Outcome::PartlyHeld, "{}", v.paragraph);
    }

    #[test]
    fn unpaired_or_dirty_points_are_no_evidence() {
        let v = link_cost(&[h2(pt(Transport::Sse), 4.0, 1.0)], lim());
        assert_eq!(v.outcome, Outcome::Inconclusive);
        let mut dirty = h2(pt(Transport::Sse), 40.0, 1.0);
        dirty.loss = 3;
        let v = link_cost(&[pt(Transport::Sse), dirty], lim());
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.paragraph);
    }
}
