//! Claim verdicts: each shipped experiment names a [`Check`] in its `[verdict]` table, and the
//! report computes from the measured points whether the claim held on this run. Nothing here knows
//! the expected answer; it only knows what evidence would support or refute the claim.

use serde::{Deserialize, Serialize};
use tickbench_wire::Transport;

use crate::experiment::{fmt_dur, fmt_num, Dur, Positive};
use crate::record::Point;

/// The built-in analyses an experiment can ask for (`[verdict] kind = "..."`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Polling waste: the share of empty poll answers against a quoted figure, per event rate,
    /// and the latency cost of a wider interval.
    EmptyShare {
        /// The share the claim quotes, percent.
        #[serde(default = "thirty")]
        expected_pct: Positive,
        /// How far (percentage points) a measured share may be from it and still "hold".
        #[serde(default = "ten")]
        tolerance_pct: Positive,
        /// Judge only the cells with this poll interval (all poll cells when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poll_interval: Option<Dur>,
    },
    /// Long-poll against streaming as the tick rate rises: the rate at which long-poll's median
    /// latency reaches `factor` × the best streaming transport's, and whether its request rate
    /// climbs toward a request loop (polling).
    Crossover {
        #[serde(default = "longpoll")]
        transport: Transport,
        #[serde(default = "two")]
        factor: Positive,
    },
    /// Latency as a function of the client's own request rate: held when the log-log slope of
    /// median latency against action rate lies in `[slope_min, slope_max]` (−1 = inverse).
    InverseLatency {
        #[serde(default = "piggyback")]
        transport: Transport,
        #[serde(default = "slope_min")]
        slope_min: f64,
        #[serde(default = "slope_max")]
        slope_max: f64,
    },
    /// Scale: every streaming transport stays clean (no loss, no errors, all clients served) at
    /// the largest client count with server CPU per tick growing at most `cpu_growth_max` ×, and
    /// long-poll costs more CPU per tick than streaming. A saturated load generator at the
    /// largest count is no evidence either way (inconclusive for that transport).
    Scale {
        #[serde(default = "two")]
        cpu_growth_max: Positive,
    },
}

fn thirty() -> Positive {
    Positive(30.0)
}
fn ten() -> Positive {
    Positive(10.0)
}
fn two() -> Positive {
    Positive(2.0)
}
fn longpoll() -> Transport {
    Transport::Longpoll
}
fn piggyback() -> Transport {
    Transport::Piggyback
}
fn slope_min() -> f64 {
    -1.5
}
fn slope_max() -> f64 {
    -0.5
}

/// Whether the claim held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Held,
    PartlyHeld,
    NotHeld,
    /// Not enough clean data to say.
    Inconclusive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::PartlyHeld => "partly held",
            Outcome::NotHeld => "did not hold",
            Outcome::Inconclusive => "was inconclusive",
        }
    }
}

/// The judgement and the paragraph that explains it with the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub paragraph: String,
}

/// Judges `check` on `points`.
pub fn judge(check: &Check, points: &[Point]) -> Verdict {
    let mut v = match check {
        Check::EmptyShare {
            expected_pct,
            tolerance_pct,
            poll_interval,
        } => empty_share(
            points,
            expected_pct.0,
            tolerance_pct.0,
            poll_interval.map(|d| d.0),
        ),
        Check::Crossover { transport, factor } => crossover(points, *transport, factor.0),
        Check::InverseLatency {
            transport,
            slope_min,
            slope_max,
        } => inverse_latency(points, *transport, *slope_min, *slope_max),
        Check::Scale { cpu_growth_max } => scale(points, cpu_growth_max.0),
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

/// The point measured a latency (it delivered ticks).
fn has_latency(p: &Point) -> bool {
    p.delivered > 0 && p.p50_us.is_finite()
}

fn inconclusive(why: impl Into<String>) -> Verdict {
    Verdict {
        outcome: Outcome::Inconclusive,
        paragraph: why.into(),
    }
}

/// `812 µs`, `3.2 ms`, `1.50 s`; `–` for no measurement (NaN).
pub fn fmt_us(us: f64) -> String {
    if !us.is_finite() {
        "–".into()
    } else if us >= 1e6 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{us:.0} µs")
    }
}

fn rate_of(p: &Point) -> String {
    p.rate
        .map(|r| format!("{} ticks/s", fmt_num(r)))
        .unwrap_or_else(|| "the default rate".into())
}

fn by<F: Fn(&Point) -> f64>(f: F) -> impl FnMut(&&Point, &&Point) -> std::cmp::Ordering {
    move |a, b| f(a).total_cmp(&f(b))
}

fn empty_share(
    points: &[Point],
    expected: f64,
    tol: f64,
    interval: Option<std::time::Duration>,
) -> Verdict {
    let polls: Vec<&Point> = points
        .iter()
        .filter(|p| matches!(p.transport, Transport::Poll | Transport::Jsonp))
        .collect();
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

fn crossover(points: &[Point], transport: Transport, factor: f64) -> Verdict {
    let mut lp: Vec<&Point> = points
        .iter()
        .filter(|p| p.transport == transport && has_latency(p))
        .collect();
    lp.sort_by(by(|p| p.rate.unwrap_or(0.0)));
    let streams: Vec<&Point> = points
        .iter()
        .filter(|p| p.transport.is_streaming() && has_latency(p))
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

fn inverse_latency(points: &[Point], transport: Transport, lo: f64, hi: f64) -> Verdict {
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

fn scale(points: &[Point], growth_max: f64) -> Verdict {
    let mut transports: Vec<Transport> = points.iter().map(|p| p.transport).collect();
    transports.sort();
    transports.dedup();
    let mut sentences = Vec::new();
    let mut stream_ok = Vec::new();
    let mut cpu_at_max: Vec<(Transport, u64, f64)> = Vec::new();
    for t in &transports {
        let mut pts: Vec<&Point> = points.iter().filter(|p| p.transport == *t).collect();
        pts.sort_by_key(|p| p.clients_asked);
        let (lo, hi) = (pts[0], pts[pts.len() - 1]);
        let largest_clean = pts
            .iter()
            .rev()
            .find(|p| p.clean())
            .map(|p| p.clients_asked);
        let growth = hi.server_cpu_us_per_tick / lo.server_cpu_us_per_tick.max(1e-9);
        cpu_at_max.push((*t, hi.clients_asked, hi.server_cpu_us_per_tick));
        // Evidence against the claim is loss, errors or unserved clients at the largest count,
        // or CPU per tick growing too much; a saturated instrument or a cut-short cell is no
        // evidence either way.
        let broken = hi.loss > 0 || hi.errors > 0 || hi.clients_receiving < hi.clients_asked;
        let judged = if broken || growth > growth_max {
            Some(false)
        } else if hi.saturated || hi.incomplete {
            None
        } else {
            Some(true)
        };
        if t.is_streaming() {
            stream_ok.push(judged);
        }
        let mut s = format!(
            "{t}: {} → {} clients, p99 {} → {}, server CPU {:.2} → {:.2} µs per delivered tick \
             ({growth:.1}×)",
            lo.clients_asked,
            hi.clients_asked,
            fmt_us(lo.p99_us),
            fmt_us(hi.p99_us),
            lo.server_cpu_us_per_tick,
            hi.server_cpu_us_per_tick
        );
        match largest_clean {
            Some(c) if c == hi.clients_asked => s.push_str(", clean at the largest count"),
            Some(c) => s.push_str(&format!(", clean up to {c} clients")),
            None => s.push_str(", never clean (loss, errors, unserved clients or saturation)"),
        }
        sentences.push(s);
    }
    if stream_ok.is_empty() {
        return inconclusive("No streaming transport measured anything.");
    }
    let mut text = format!("{}. ", sentences.join("; "));
    // Long-poll against the cheapest streaming transport at the largest count both reached.
    let mut longpoll_dearer = None;
    if let Some(&(_, lc, lcpu)) = cpu_at_max
        .iter()
        .find(|(t, _, _)| *t == Transport::Longpoll)
    {
        if let Some(&(st, _, scpu)) = cpu_at_max
            .iter()
            .filter(|(t, c, _)| t.is_streaming() && *c == lc)
            .min_by(|a, b| a.2.total_cmp(&b.2))
        {
            let dearer = lcpu > scpu;
            longpoll_dearer = Some(dearer);
            text.push_str(&format!(
                "At {lc} clients long-poll used {lcpu:.2} µs of server CPU per tick against {scpu:.2} \
                 for {st} ({}). ",
                if dearer { "dearer, as claimed" } else { "not dearer" }
            ));
        }
    }
    let held = stream_ok.iter().filter(|j| **j == Some(true)).count();
    let failed = stream_ok.iter().filter(|j| **j == Some(false)).count();
    let unknown = stream_ok.len() - held - failed;
    let outcome = if held == stream_ok.len() && longpoll_dearer != Some(false) {
        Outcome::Held
    } else if held > 0 {
        Outcome::PartlyHeld
    } else if failed > 0 {
        Outcome::NotHeld
    } else {
        Outcome::Inconclusive
    };
    if unknown > 0 {
        text.push_str(&format!(
            "{unknown} streaming transport(s) could not be judged at the largest count (load              generator saturated or cell cut short). "
        ));
    }
    text.insert_str(
        0,
        &format!(
            "The claim that streaming scales to the largest client count with a flat server cost \
             per tick (at most {growth_max:.1}× growth) {}. ",
            outcome.as_str()
        ),
    );
    Verdict {
        outcome,
        paragraph: text,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pt(t: Transport) -> Point {
        Point {
            transport: t,
            clients: Some(100),
            rate: Some(1.0),
            poll_interval: None,
            action_rate: None,
            runs: 1,
            p50_us: 200.0,
            p99_us: 800.0,
            floor_p50_us: 20.0,
            requests_per_tick: 1.0,
            empty_pct: 0.0,
            bytes_per_tick: 150.0,
            server_cpu_us_per_tick: 5.0,
            deliveries_per_s: 100.0,
            requests_per_s_per_client: 1.0,
            delivered: 1000,
            loss: 0,
            errors: 0,
            clients_receiving: 100,
            clients_asked: 100,
            saturated: false,
            incomplete: false,
        }
    }

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

    #[test]
    fn check_table_parses_with_defaults_and_rejects_unknown_keys() {
        let c: Check = toml::from_str("kind = \"crossover\"").unwrap();
        assert_eq!(
            c,
            Check::Crossover {
                transport: Transport::Longpoll,
                factor: Positive(2.0)
            }
        );
        assert!(toml::from_str::<Check>("kind = \"crossover\"\nfactr = 3").is_err());
        assert!(toml::from_str::<Check>("kind = \"vibes\"").is_err());
    }
}
