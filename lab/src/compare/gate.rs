//! The gate: which rows two loaded runs get (config differences, per-phase warnings, the gated
//! metrics), following the rules in the [module docs](super).

use tickbench_loadgen::steal::{FOREIGN_CPU_KEY, HIGH_FOREIGN_PCT};
use tickbench_wire::Transport;

use super::bound::{gated, rel_delta, warning, Gate};
use super::error::BadInput;
use super::input::{Entry, Run};
use super::model::{Comparison, Row, RowVerdict, RUN_KEY};
use super::tail::P99_MEDIAN_KEY;
use super::thresholds::Thresholds;

/// Compares two loaded runs.
pub fn compare_runs(
    baseline: &Run,
    current: &Run,
    thresholds: &Thresholds,
    absolute: bool,
    strict: bool,
) -> Result<Comparison, BadInput> {
    if std::mem::discriminant(baseline) != std::mem::discriminant(current) {
        return Err(BadInput::KindMismatch(baseline.kind(), current.kind()));
    }
    let base = baseline.entries();
    let cur = current.entries();
    let names = |v: &[Entry]| {
        let n: Vec<&str> = v.iter().map(|e| e.key.as_str()).collect();
        if n.is_empty() {
            "nothing".to_string()
        } else {
            n.join(", ")
        }
    };
    if !base.iter().any(|b| cur.iter().any(|c| c.key == b.key)) {
        return Err(BadInput::NoCommon(names(&base), names(&cur)));
    }
    let mismatched: Vec<String> = base
        .iter()
        .filter_map(|b| {
            let c = cur.iter().find(|c| c.key == b.key)?;
            (b.phase.link != c.phase.link)
                .then(|| format!("{} {} → {}", b.key, b.phase.link, c.phase.link))
        })
        .collect();
    if !mismatched.is_empty() {
        return Err(BadInput::ProtocolMismatch(mismatched.join(", ")));
    }
    let mut rows = Vec::new();
    if !current.complete() {
        rows.push(warning(
            RUN_KEY,
            "complete",
            None,
            None,
            "current run is complete:false (interrupted or failed)".into(),
        ));
    }
    let differing = config_differences(baseline, current);
    if !differing.is_empty() {
        rows.push(warning(
            RUN_KEY,
            "configuration",
            None,
            None,
            format!("runs configured differently: {}", differing.join(", ")),
        ));
    }
    for b in &base {
        match cur.iter().find(|c| c.key == b.key) {
            Some(c) => compare_entry(b, c, thresholds, absolute, &mut rows),
            None => rows.push(warning(
                &b.key,
                "present",
                None,
                None,
                "in the baseline, missing from the current run".into(),
            )),
        }
    }
    for c in cur.iter().filter(|c| !base.iter().any(|b| b.key == c.key)) {
        rows.push(Row {
            key: c.key.clone(),
            metric: "present".into(),
            unit: "",
            baseline: None,
            current: None,
            delta: "new in the current run, not compared".into(),
            limit: String::new(),
            verdict: RowVerdict::Info,
            chartable: false,
        });
    }
    Ok(Comparison {
        baseline: baseline.describe(),
        current: current.describe(),
        rows,
        strict,
    })
}

/// Settings that differ between the two runs, other than where and how they were written.
fn config_differences(baseline: &Run, current: &Run) -> Vec<String> {
    // Where the results went, which process served them, and what follows from the machine
    // (workers default to the CPU count) or shows up as phase rows anyway (transports). The
    // server's epoch is the wall-clock start of each run's tick stream: different by design.
    const IGNORED: [&str; 10] = [
        "label",
        "out",
        "target",
        "no_tui",
        "workers",
        "server_bin",
        "server_pid",
        "server_version",
        "server_epoch_us",
        "transports",
    ];
    match (baseline, current) {
        (Run::Summary(b), Run::Summary(c)) => {
            let (Some(bo), Some(co)) = (b.config.as_object(), c.config.as_object()) else {
                return Vec::new();
            };
            let mut keys: Vec<&String> = bo.keys().chain(co.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| !IGNORED.contains(&k.as_str()) && bo.get(*k) != co.get(*k))
                .map(|k| {
                    let show = |v: Option<&serde_json::Value>| {
                        v.map(|v| v.to_string()).unwrap_or_else(|| "–".into())
                    };
                    format!("{k} {} → {}", show(bo.get(k)), show(co.get(k)))
                })
                .collect()
        }
        (Run::Sweep(b), Run::Sweep(c)) => {
            let (be, ce) = (&b.experiment, &c.experiment);
            let mut d = Vec::new();
            for (name, x, y) in [
                ("duration", be.duration.0, ce.duration.0),
                ("warmup", be.warmup.0, ce.warmup.0),
                ("ramp", be.ramp.0, ce.ramp.0),
            ] {
                if x != y {
                    d.push(format!("{name} {x:?} → {y:?}"));
                }
            }
            if b.quick != c.quick {
                d.push(format!("quick {} → {}", b.quick, c.quick));
            }
            d
        }
        _ => Vec::new(),
    }
}

/// The rows of one phase present on both sides.
fn compare_entry(b: &Entry, c: &Entry, th: &Thresholds, absolute: bool, rows: &mut Vec<Row>) {
    let key = c.key.as_str();
    let tol = th.for_key(key, &c.phase.name);
    let (bp, cp) = (&b.phase, &c.phase);
    let first_row = rows.len();
    // The tail the gate judges: the median of the seconds' p99s when both runs' `latency.hlog`
    // gave one (see `super::tail`), else the window's p99.
    let medians = match (bp.extra.get(P99_MEDIAN_KEY), cp.extra.get(P99_MEDIAN_KEY)) {
        (Some(&bm), Some(&cm)) => Some((bm as u64, cm as u64)),
        _ => None,
    };
    let (p99_b, p99_c, p99_name) = match medians {
        Some((bm, cm)) => (bm, cm, "latency p99 (median of seconds)"),
        None => (bp.latency_us.p99, cp.latency_us.p99, "latency p99"),
    };
    // Warnings first: they change how every other row must be read.
    if cp.saturated {
        rows.push(warning(
            key,
            "saturated",
            None,
            None,
            format!(
                "load generator saturated: {}",
                if cp.saturation_reasons.is_empty() {
                    "no reason given".to_string()
                } else {
                    cp.saturation_reasons.join("; ")
                }
            ),
        ));
    }
    if !c.complete {
        rows.push(warning(
            key,
            "complete",
            None,
            None,
            "phase cut short".into(),
        ));
    }
    // A phase that delivered nothing has ratios of 0 that would read as "better": it is the
    // worst regression of all and must say so.
    if cp.delivered == 0 && bp.delivered > 0 {
        rows.push(Row {
            key: key.into(),
            metric: "delivered".into(),
            unit: "ticks",
            baseline: Some(bp.delivered as f64),
            current: Some(0.0),
            delta: "nothing delivered: every other row of this phase is meaningless".into(),
            limit: "> 0".into(),
            verdict: RowVerdict::Regression,
            chartable: false,
        });
    } else if cp.deliveries_per_s() < 0.5 * bp.deliveries_per_s() {
        rows.push(warning(
            key,
            "deliveries per second",
            Some(bp.deliveries_per_s()),
            Some(cp.deliveries_per_s()),
            "less than half the baseline's: same configuration?".into(),
        ));
    }
    rows.push(gated(
        key,
        "loss (gaps+dup+ooo)",
        "ticks",
        bp.loss() as f64,
        cp.loss() as f64,
        Gate::AtMost(tol.max_loss),
    ));
    rows.push(gated(
        key,
        "requests per tick",
        "req/tick",
        bp.requests_per_tick(),
        cp.requests_per_tick(),
        Gate::Relative {
            tol: tol.requests_per_tick,
            slack: 0.01,
        },
    ));
    rows.push(gated(
        key,
        "empty responses",
        "%",
        bp.empty_pct(),
        cp.empty_pct(),
        Gate::Points(tol.empty_pct),
    ));
    rows.push(gated(
        key,
        "bytes per tick",
        "B/tick",
        bp.bytes_per_tick(),
        cp.bytes_per_tick(),
        Gate::Relative {
            tol: tol.bytes_per_tick,
            slack: 1.0,
        },
    ));
    let abs_gate = |slack| {
        if absolute {
            Gate::Relative {
                tol: tol.absolute,
                slack,
            }
        } else {
            Gate::Info
        }
    };
    // Poll, jsonp and piggyback latency is set by the client's schedule, not the machine (see
    // the module docs); a phase name this tickbench does not know is gated like a push transport.
    let schedule_bound = cp
        .name
        .parse::<Transport>()
        .is_ok_and(Transport::schedule_bound);
    if schedule_bound {
        let gate = Gate::Relative {
            tol: tol.schedule_latency,
            slack: 1.0,
        };
        for (m, bv, cv) in [
            (
                "latency p50 (schedule-bound)",
                bp.latency_us.p50,
                cp.latency_us.p50,
            ),
            (
                if medians.is_some() {
                    "latency p99 (median of seconds, schedule-bound)"
                } else {
                    "latency p99 (schedule-bound)"
                },
                p99_b,
                p99_c,
            ),
        ] {
            rows.push(gated(key, m, "ms", bv as f64 / 1e3, cv as f64 / 1e3, gate));
        }
        if medians.is_some() {
            rows.push(gated(
                key,
                "latency p99 of the window (schedule-bound)",
                "ms",
                bp.latency_us.p99 as f64 / 1e3,
                cp.latency_us.p99 as f64 / 1e3,
                Gate::Info,
            ));
        }
    } else {
        let (bf, cf) = (b.floor.p50, c.floor.p50);
        if bf > 0.0 && cf > 0.0 {
            for (m, bv, cv, t) in [
                (
                    "latency p50 / floor p50",
                    bp.latency_us.p50,
                    cp.latency_us.p50,
                    tol.latency,
                ),
                (
                    if medians.is_some() {
                        "latency p99 (median of seconds) / floor p50"
                    } else {
                        "latency p99 / floor p50"
                    },
                    p99_b,
                    p99_c,
                    tol.latency_p99,
                ),
            ] {
                let gate = Gate::Relative { tol: t, slack: 1.0 };
                let (bv, cv) = (bv as f64, cv as f64);
                let mut row = gated(key, m, "x", bv / bf, cv / cf, gate);
                // The floor is a few µs and can move 10× between runs on a busy machine; a ratio
                // that moved only because the floor did is not a verdict on the server. So the
                // ratio's verdict stands only when the absolute latency moved the same way
                // beyond the same tolerance (slack 50 µs).
                let abs_up = cv > bv * (1.0 + t) && cv - bv > 50.0;
                let abs_down = cv < bv / (1.0 + t) && bv - cv > 50.0;
                let confirmed = match row.verdict {
                    RowVerdict::Regression => abs_up,
                    RowVerdict::Better => abs_down,
                    _ => true,
                };
                if !confirmed {
                    row.verdict = RowVerdict::Ok;
                    row.delta = format!(
                        "{} (floor {:.1} → {:.1} µs; absolute {})",
                        row.delta,
                        bf,
                        cf,
                        rel_delta(bv, cv)
                    );
                }
                rows.push(row);
            }
        } else {
            rows.push(warning(
                key,
                "floor",
                Some(bf),
                Some(cf),
                "no loopback floor measured: floor-relative latency not gated".into(),
            ));
        }
        // The fan-out floor of the same run: the same clients, rate and parsing against a
        // minimal writer, measured minutes (not machines) apart, so the multiple cancels what
        // the loopback floor cannot (the clients' own cost, the machine's load at the time) and
        // the tolerance can be tight enough to catch a transport that got 2× slower.
        if let (Some(bm), Some(cm)) = (&bp.floor_multiples, &cp.floor_multiples) {
            rows.push(gated(
                key,
                "latency p50 / fan-out floor p50",
                "x",
                bm.latency_p50,
                cm.latency_p50,
                Gate::Relative {
                    tol: tol.fanout,
                    slack: 0.1,
                },
            ));
            rows.push(gated(
                key,
                "latency p99 / fan-out floor p99",
                "x",
                bm.latency_p99,
                cm.latency_p99,
                Gate::Info,
            ));
        }
        rows.push(gated(
            key,
            "latency p50",
            "us",
            bp.latency_us.p50 as f64,
            cp.latency_us.p50 as f64,
            abs_gate(50.0),
        ));
        rows.push(gated(
            key,
            p99_name,
            "us",
            p99_b as f64,
            p99_c as f64,
            abs_gate(50.0),
        ));
        if medians.is_some() {
            rows.push(gated(
                key,
                "latency p99 of the window",
                "us",
                bp.latency_us.p99 as f64,
                cp.latency_us.p99 as f64,
                Gate::Info,
            ));
        }
    }
    rows.push(gated(
        key,
        "server CPU per tick",
        "us/tick",
        bp.server_cpu_us_per_tick(),
        cp.server_cpu_us_per_tick(),
        abs_gate(0.5),
    ));
    rows.push(gated(
        key,
        "deliveries per second",
        "ticks/s",
        bp.deliveries_per_s(),
        cp.deliveries_per_s(),
        Gate::Info,
    ));
    rows.push(gated(
        key,
        "floor p50",
        "us",
        b.floor.p50,
        c.floor.p50,
        Gate::Info,
    ));
    // High steal: the hypervisor took the CPU, so a latency that got worse describes the host.
    // Such a row is a warning (fails only with --strict), not a regression.
    if cp.high_steal() {
        let steal = cp.steal_pct.unwrap_or(0.0);
        for r in &mut rows[first_row..] {
            if r.metric.starts_with("latency") && r.verdict == RowVerdict::Regression {
                r.verdict = RowVerdict::Warning;
                r.delta = format!(
                    "{} (steal {steal:.1} % during the phase: the host, not the server)",
                    r.delta
                );
            }
        }
        rows.push(warning(
            key,
            "steal",
            bp.steal_pct,
            Some(steal),
            format!(
                "the hypervisor took {steal:.1} % of the CPU (≥ {} %): latency rows are warnings",
                tickbench_wire::HIGH_STEAL_PCT
            ),
        ));
    }
    // Other processes on the machine's cores: the same reasoning as steal, from inside the
    // kernel (a build or another benchmark starving the server shows in neither steal nor the
    // load generator's event-loop probe).
    if let Some(&foreign) = cp
        .extra
        .get(FOREIGN_CPU_KEY)
        .filter(|&&f| f >= HIGH_FOREIGN_PCT)
    {
        for r in &mut rows[first_row..] {
            if r.metric.starts_with("latency") && r.verdict == RowVerdict::Regression {
                r.verdict = RowVerdict::Warning;
                r.delta = format!(
                    "{} (other processes used {foreign:.0} % of the machine's CPU: the machine, not the server)",
                    r.delta
                );
            }
        }
        rows.push(warning(
            key,
            "foreign CPU",
            bp.extra.get(FOREIGN_CPU_KEY).copied(),
            Some(foreign),
            format!(
                "other processes used {foreign:.0} % of the machine's CPU (≥ {HIGH_FOREIGN_PCT} %): latency rows are warnings"
            ),
        ));
    }
    if cp.error_count() > 0 {
        let kinds: Vec<String> = cp.errors.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rows.push(warning(
            key,
            "errors",
            Some(bp.error_count() as f64),
            Some(cp.error_count() as f64),
            kinds.join(", "),
        ));
    }
    if cp.gap_notices > 0 {
        rows.push(warning(
            key,
            "gap notices",
            Some(bp.gap_notices as f64),
            Some(cp.gap_notices as f64),
            "the server declared ticks lost to its journal bound".into(),
        ));
    }
    if cp.clients_receiving < cp.clients {
        rows.push(warning(
            key,
            "clients receiving",
            Some(bp.clients_receiving as f64),
            Some(cp.clients_receiving as f64),
            format!(
                "only {} of {} clients got a tick",
                cp.clients_receiving, cp.clients
            ),
        ));
    }
}
