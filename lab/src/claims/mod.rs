//! Claim verdicts: the report computes from the measured points whether the claim an experiment's
//! [`Check`] names held on this run. Nothing here knows the expected answer; it only knows what
//! evidence would support or refute the claim.
//!
//! One file per analysis (`empty_share`, `crossover`, `inverse_latency`, `scale`, `link_cost`), the shared
//! reading of the points in [`evidence`]; this file dispatches and adds the caveats that weaken any
//! claim (a saturated instrument, lost ticks).

mod crossover;
mod empty_share;
pub mod evidence;
mod inverse_latency;
mod link_cost;
mod scale;
#[cfg(test)]
mod test_support;

use crate::check::Check;
use crate::points::Point;
use crate::verdict::{Outcome, Verdict};

/// Judges `check` on `points`.
pub fn judge(check: &Check, points: &[Point]) -> Verdict {
    let mut v = match check {
        Check::EmptyShare {
            expected_pct,
            tolerance_pct,
            poll_interval,
        } => empty_share::empty_share(
            points,
            expected_pct.0,
            tolerance_pct.0,
            poll_interval.map(|d| d.0),
        ),
        Check::Crossover { transport, factor } => {
            crossover::crossover(points, *transport, factor.0)
        }
        Check::InverseLatency {
            transport,
            slope_min,
            slope_max,
        } => inverse_latency::inverse_latency(points, *transport, *slope_min, *slope_max),
        Check::Scale { cpu_growth_max } => scale::scale(points, cpu_growth_max.0),
        Check::LinkCost {
            max_cpu_ratio,
            max_latency_ratio,
            max_rss_ratio,
        } => link_cost::link_cost(
            points,
            link_cost::Limits {
                cpu: max_cpu_ratio.0,
                latency: max_latency_ratio.0,
                rss: max_rss_ratio.map(|r| r.0),
            },
        ),
    };
    // Caveats that apply to every analysis: a saturated instrument or lost ticks weaken any claim.
    let saturated: Vec<String> = points
        .iter()
        .filter(|p| p.saturated)
        .map(Point::label)
        .collect();
    if !saturated.is_empty() {
        v.paragraph.push_str(&format!(
            " Caveat: the load generator saturated in {} of {} points ({}), so their latencies \
             describe the instrument more than the server.",
            saturated.len(),
            points.len(),
            saturated.join(", ")
        ));
        if saturated.len() * 2 > points.len() && v.outcome != Outcome::NotHeld {
            v.outcome = Outcome::Inconclusive;
        }
    }
    let lossy: Vec<String> = points
        .iter()
        .filter(|p| p.loss > 0)
        .map(Point::label)
        .collect();
    if !lossy.is_empty() {
        v.paragraph.push_str(&format!(
            " Ticks were lost, duplicated or reordered in: {}.",
            lossy.join(", ")
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tickbench_wire::Transport;

    use super::test_support::pt;
    use super::*;
    use crate::values::{Dur, Positive};

    fn poll(rate: f64, interval_s: u64, empty: f64, p50_ms: f64) -> Point {
        Point {
            rate: Some(rate),
            poll_interval: Some(Duration::from_secs(interval_s)),
            empty_pct: empty,
            p50_us: p50_ms * 1e3,
            ..pt(Transport::Poll)
        }
    }

    fn empty_check() -> Check {
        Check::EmptyShare {
            expected_pct: Positive(30.0),
            tolerance_pct: Positive(10.0),
            poll_interval: Some(Dur(Duration::from_secs(2))),
        }
    }

    #[test]
    fn empty_share_verdicts_follow_the_data() {
        let all_near = vec![poll(1.0, 2, 28.0, 1000.0), poll(5.0, 2, 35.0, 1000.0)];
        assert_eq!(judge(&empty_check(), &all_near).outcome, Outcome::Held);

        let mixed = vec![
            poll(0.5, 2, 80.0, 1000.0),
            poll(5.0, 2, 31.0, 1000.0),
            poll(5.0, 1, 60.0, 500.0),
            poll(5.0, 5, 10.0, 2500.0),
        ];
        let v = judge(&empty_check(), &mixed);
        assert_eq!(v.outcome, Outcome::PartlyHeld);
        assert!(
            v.paragraph.contains("80.0 % at 0.5 ticks/s"),
            "{}",
            v.paragraph
        );
        // slope of p50 vs interval at rate 5: 500 ms per second
        assert!(
            v.paragraph.contains("≈500 ms per extra second"),
            "{}",
            v.paragraph
        );

        let none = vec![poll(50.0, 2, 0.0, 1000.0)];
        assert_eq!(judge(&empty_check(), &none).outcome, Outcome::NotHeld);
        assert_eq!(judge(&empty_check(), &[]).outcome, Outcome::Inconclusive);
    }

    #[test]
    fn crossover_found_where_longpoll_falls_behind() {
        let mut pts = Vec::new();
        for (rate, lp50, rps) in [
            (1.0, 210.0, 0.05),
            (100.0, 300.0, 1.0),
            (1000.0, 900.0, 20.0),
        ] {
            pts.push(Point {
                rate: Some(rate),
                p50_us: lp50,
                requests_per_s_per_client: rps,
                ..pt(Transport::Longpoll)
            });
            pts.push(Point {
                rate: Some(rate),
                p50_us: 200.0,
                ..pt(Transport::Sse)
            });
        }
        let check = Check::Crossover {
            transport: Transport::Longpoll,
            factor: Positive(2.0),
        };
        let v = judge(&check, &pts);
        assert_eq!(v.outcome, Outcome::Held, "{}", v.paragraph);
        assert!(
            v.paragraph.contains("from 1000 ticks/s on"),
            "{}",
            v.paragraph
        );

        // long-poll as fast as streaming everywhere and no request loop: did not hold
        for p in pts.iter_mut() {
            p.p50_us = 200.0;
            p.requests_per_s_per_client = 1.0;
        }
        assert_eq!(judge(&check, &pts).outcome, Outcome::NotHeld);
        assert_eq!(judge(&check, &pts[..1]).outcome, Outcome::Inconclusive);
    }

    #[test]
    fn inverse_latency_slope() {
        let mk = |a: f64, p50_ms: f64| Point {
            action_rate: Some(a),
            link: tickbench_wire::Link::default(),
            p50_us: p50_ms * 1e3,
            ..pt(Transport::Piggyback)
        };
        let check = Check::InverseLatency {
            transport: Transport::Piggyback,
            slope_min: -1.5,
            slope_max: -0.5,
        };
        let inverse = vec![mk(0.5, 1400.0), mk(1.0, 700.0), mk(4.0, 175.0)];
        let v = judge(&check, &inverse);
        assert_eq!(v.outcome, Outcome::Held);
        assert!(v.paragraph.contains("-1.00"), "{}", v.paragraph);
        let flat = vec![mk(0.5, 700.0), mk(4.0, 700.0)];
        assert_eq!(judge(&check, &flat).outcome, Outcome::NotHeld);
        let shallow = vec![mk(0.5, 700.0), mk(4.0, 500.0)];
        assert_eq!(judge(&check, &shallow).outcome, Outcome::PartlyHeld);
    }

    #[test]
    fn scale_verdict_and_saturation_caveat() {
        let mk = |t: Transport, c: u64, cpu: f64| Point {
            clients: Some(c),
            clients_asked: c,
            clients_receiving: c,
            server_cpu_us_per_tick: cpu,
            ..pt(t)
        };
        let check = Check::Scale {
            cpu_growth_max: Positive(2.0),
        };
        let good = vec![
            mk(Transport::Sse, 100, 5.0),
            mk(Transport::Sse, 10_000, 6.0),
            mk(Transport::Longpoll, 100, 20.0),
            mk(Transport::Longpoll, 10_000, 30.0),
        ];
        assert_eq!(judge(&check, &good).outcome, Outcome::Held);
        let mut lossy = good.clone();
        lossy[1].loss = 3;
        let v = judge(&check, &lossy);
        assert_eq!(v.outcome, Outcome::NotHeld);
        assert!(v.paragraph.contains("lost"), "{}", v.paragraph);
        let mut sat = good.clone();
        for p in sat.iter_mut().skip(1) {
            p.saturated = true;
        }
        let v = judge(&check, &sat);
        assert_eq!(
            v.outcome,
            Outcome::Inconclusive,
            "a saturated instrument is no evidence"
        );
        assert!(
            v.paragraph.contains("saturated in 3 of 4"),
            "{}",
            v.paragraph
        );
    }
}
