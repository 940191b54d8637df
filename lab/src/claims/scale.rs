//! The scale claim: every streaming transport stays clean at the largest client count with a flat
//! server cost per tick, while long-poll costs more.

use tickbench_wire::Transport;

use super::evidence::{inconclusive, is_held, is_streamed};
use crate::points::Point;
use crate::units::fmt_us;
use crate::verdict::{Outcome, Verdict};

/// Judged per server when the experiment has a `targets` axis (one paragraph each; held only
/// if held on every server).
pub(crate) fn scale(points: &[Point], growth_max: f64) -> Verdict {
    let mut targets: Vec<_> = points.iter().map(|p| p.target).collect();
    targets.sort();
    targets.dedup();
    if targets.len() <= 1 {
        return scale_one(points, growth_max);
    }
    let verdicts: Vec<(String, Verdict)> = targets
        .iter()
        .map(|t| {
            let pts: Vec<Point> = points.iter().filter(|p| p.target == *t).cloned().collect();
            let name = t.map_or("the default server".to_string(), |k| k.to_string());
            (name, scale_one(&pts, growth_max))
        })
        .collect();
    let all = |o: Outcome| verdicts.iter().all(|(_, v)| v.outcome == o);
    let outcome = if all(Outcome::Held) {
        Outcome::Held
    } else if all(Outcome::NotHeld) {
        Outcome::NotHeld
    } else if all(Outcome::Inconclusive) {
        Outcome::Inconclusive
    } else {
        Outcome::PartlyHeld
    };
    let paragraph = verdicts
        .iter()
        .map(|(name, v)| format!("On {name}: {}", v.paragraph))
        .collect::<Vec<_>>()
        .join("\n\n");
    Verdict { outcome, paragraph }
}

fn scale_one(points: &[Point], growth_max: f64) -> Verdict {
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
        if is_streamed(*t) {
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
    if let Some(&(_, lc, lcpu)) = cpu_at_max.iter().find(|(t, _, _)| is_held(*t)) {
        if let Some(&(st, _, scpu)) = cpu_at_max
            .iter()
            .filter(|(t, c, _)| is_streamed(*t) && *c == lc)
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
            "{unknown} streaming transport(s) could not be judged at the largest count (load \
             generator saturated or cell cut short). "
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
