//! The gate's behaviour end to end inside the crate: two summaries in, rows with verdicts out, in
//! every output format.

use super::gate::compare_runs;
use super::input::Run;
use super::model::{Comparison, GateVerdict, Row, RowVerdict};
use super::opts::{test_opts as opts, CompareOpts};
use super::render::gate_bad_input;
use super::thresholds::Thresholds;
use crate::record::test_support::{phase, summary};
use tickbench_wire::Summary;

fn th() -> Thresholds {
    Thresholds::default()
}

fn cmp(b: Summary, c: Summary) -> Comparison {
    compare_runs(&Run::Summary(b), &Run::Summary(c), &th(), false, false).unwrap()
}

fn verdict_of<'a>(c: &'a Comparison, key: &str, metric: &str) -> &'a Row {
    c.rows
        .iter()
        .find(|r| r.key == key && r.metric == metric)
        .unwrap_or_else(|| panic!("no row {key} {metric}"))
}

fn pair() -> Summary {
    summary(vec![phase("poll"), phase("sse")])
}

#[test]
fn identical_runs_pass() {
    let c = cmp(pair(), pair());
    assert_eq!(c.exit_code(), 0, "{}", c.markdown());
    assert_eq!(c.regressions(), 0);
    assert_eq!(c.warnings(), 0);
    assert!(c.markdown().contains("**PASS**"));
}

#[test]
fn loss_is_gated_at_zero_whatever_the_baseline() {
    let mut cur = pair();
    cur.transports[1].gaps = 1;
    let c = cmp(pair(), cur);
    assert_eq!(c.exit_code(), 1);
    assert_eq!(
        verdict_of(&c, "sse", "loss (gaps+dup+ooo)").verdict,
        RowVerdict::Regression
    );
}

#[test]
fn relative_tolerances_flag_and_forgive() {
    let mut cur = pair();
    cur.transports[0].requests = 700; // +40 % requests per tick > 15 %
    cur.transports[1].bytes = 1_600_000; // +6.7 % bytes per tick < 10 %
    let c = cmp(pair(), cur);
    assert_eq!(
        verdict_of(&c, "poll", "requests per tick").verdict,
        RowVerdict::Regression
    );
    assert_eq!(
        verdict_of(&c, "sse", "bytes per tick").verdict,
        RowVerdict::Ok
    );
    // a looser flag forgives it
    let opts = CompareOpts {
        tol_requests_per_tick: Some(0.25),
        ..opts()
    };
    let mut cur = pair();
    cur.transports[0].requests = 560;
    let t = Thresholds::load(&opts).unwrap();
    let c = compare_runs(&Run::Summary(pair()), &Run::Summary(cur), &t, false, false).unwrap();
    assert_eq!(c.exit_code(), 0);
}

#[test]
fn latency_is_floor_relative_for_push_and_absolute_only_on_request() {
    // current machine twice as slow in every respect: floor and latency double → not a regression
    let mut cur = pair();
    cur.floor_us.p50 *= 2.0;
    cur.transports[1].latency_us.p50 *= 2;
    cur.transports[1].latency_us.p99 *= 2;
    cur.transports[1].server_cpu_s *= 2.0;
    let c = cmp(pair(), cur.clone());
    assert_eq!(c.exit_code(), 0, "{}", c.markdown());
    assert_eq!(
        verdict_of(&c, "sse", "latency p50").verdict,
        RowVerdict::Info
    );
    // ...but --absolute sees it
    let c = compare_runs(
        &Run::Summary(pair()),
        &Run::Summary(cur),
        &th(),
        true,
        false,
    )
    .unwrap();
    assert_eq!(
        verdict_of(&c, "sse", "latency p50").verdict,
        RowVerdict::Regression
    );
    assert_eq!(
        verdict_of(&c, "sse", "server CPU per tick").verdict,
        RowVerdict::Regression
    );
    // the floor alone dropped 10× (noise on a busy machine): ratios jump, nothing fails
    let mut cur = pair();
    cur.floor_us.p50 /= 10.0;
    let c = cmp(pair(), cur);
    assert_eq!(c.exit_code(), 0, "{}", c.markdown());
    assert!(verdict_of(&c, "sse", "latency p50 / floor p50")
        .delta
        .contains("floor 20.0 → 2.0 µs"));
    // same floor, p99 quadrupled → within the tail's own +400 %; sextupled → regression
    let mut cur = pair();
    cur.transports[1].latency_us.p99 *= 4;
    let c = cmp(pair(), cur.clone());
    assert_eq!(
        verdict_of(&c, "sse", "latency p99 / floor p50").verdict,
        RowVerdict::Ok
    );
    cur.transports[1].latency_us.p99 = cur.transports[1].latency_us.p99 / 4 * 6;
    let c = cmp(pair(), cur);
    assert_eq!(
        verdict_of(&c, "sse", "latency p99 / floor p50").verdict,
        RowVerdict::Regression
    );
    // poll latency is schedule-bound: gated as measured, not divided by the floor
    let mut cur = pair();
    cur.floor_us.p50 /= 4.0;
    let c = cmp(pair(), cur);
    assert_eq!(
        verdict_of(&c, "poll", "latency p50 (schedule-bound)").verdict,
        RowVerdict::Ok
    );
    // ...and a doubled poll latency (say, the interval doubled by mistake) fails
    let mut base = pair();
    base.transports[0].latency_us.p50 = 500_000;
    let mut cur = base.clone();
    cur.transports[0].latency_us.p50 *= 2;
    let c = cmp(base, cur);
    assert_eq!(
        verdict_of(&c, "poll", "latency p50 (schedule-bound)").verdict,
        RowVerdict::Regression
    );
}

#[test]
fn saturation_and_incomplete_warn_and_fail_under_strict() {
    let mut cur = pair();
    cur.complete = false;
    cur.transports[1].saturated = true;
    cur.transports[1].saturation_reasons = vec!["loadgen CPU 99 %".into()];
    let c = cmp(pair(), cur.clone());
    assert_eq!(c.exit_code(), 0);
    assert_eq!(c.warnings(), 2);
    assert!(c.markdown().contains("loadgen CPU 99 %"));
    let c = compare_runs(
        &Run::Summary(pair()),
        &Run::Summary(cur),
        &th(),
        false,
        true,
    )
    .unwrap();
    assert_eq!(c.exit_code(), 1);
    assert!(c.markdown().contains("**FAIL**"));
}

#[test]
fn a_phase_that_delivered_nothing_is_a_regression() {
    let mut cur = pair();
    let p = &mut cur.transports[1];
    p.delivered = 0;
    p.requests = 0;
    p.bytes = 0;
    p.latency_us = Default::default();
    let c = cmp(pair(), cur);
    assert_eq!(c.exit_code(), 1, "{}", c.markdown());
    assert_eq!(
        verdict_of(&c, "sse", "delivered").verdict,
        RowVerdict::Regression
    );
    let mut cur = pair();
    cur.transports[1].delivered /= 3;
    let c = cmp(pair(), cur);
    assert_eq!(
        verdict_of(&c, "sse", "deliveries per second").verdict,
        RowVerdict::Warning
    );
}

#[test]
fn differing_configuration_is_a_warning() {
    let mut base = pair();
    base.config = serde_json::json!({"clients": 100, "label": "a", "rate": 100.0});
    let mut cur = pair();
    cur.config = serde_json::json!({"clients": 200, "label": "b", "rate": 100.0});
    let c = cmp(base, cur);
    let row = verdict_of(&c, "(run)", "configuration");
    assert_eq!(row.verdict, RowVerdict::Warning);
    assert_eq!(row.delta, "runs configured differently: clients 100 → 200");
}

#[test]
fn runs_of_different_protocols_are_refused() {
    let base = pair();
    let mut cur = pair();
    cur.transports[1].link = tickbench_wire::Link {
        protocol: tickbench_wire::HttpVersion::H2,
        tls: true,
        tabs_per_conn: 100,
    };
    let err = compare_runs(&Run::Summary(base), &Run::Summary(cur), &th(), false, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sse h1 → h2+tls ×100 tabs/conn") && err.contains("--http2"),
        "{err}"
    );
    assert!(
        !err.contains("poll"),
        "only the differing phase is named: {err}"
    );
}

#[test]
fn missing_and_new_phases() {
    let cur = summary(vec![phase("sse"), phase("stream")]);
    let c = cmp(pair(), cur);
    assert_eq!(
        verdict_of(&c, "poll", "present").verdict,
        RowVerdict::Warning
    );
    assert_eq!(
        verdict_of(&c, "stream", "present").verdict,
        RowVerdict::Info
    );
    let err = compare_runs(
        &Run::Summary(pair()),
        &Run::Summary(summary(vec![phase("iframe")])),
        &th(),
        false,
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no common transport (baseline has: poll, sse; current has: iframe)"
    );
}

#[test]
fn json_carries_the_verdict_and_every_row() {
    let c = cmp(pair(), pair());
    let v = c.json();
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["regressed"], serde_json::json!([]));
    assert_eq!(v["regressions"], 0);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), c.rows.len());
    assert!(rows
        .iter()
        .any(|r| r["phase"] == "sse" && r["metric"] == "latency p99 / floor p50"));
}

#[test]
fn benchmark_is_custom_smaller_is_better() {
    let c = cmp(pair(), pair());
    let v = c.benchmark();
    let arr = v.as_array().unwrap();
    assert!(!arr.is_empty());
    for item in arr {
        let o = item.as_object().unwrap();
        assert!(o["name"].is_string() && o["unit"].is_string() && o["value"].is_number());
        for k in o.keys() {
            assert!(
                ["name", "unit", "value", "range", "extra"].contains(&k.as_str()),
                "{k}"
            );
        }
    }
    assert!(arr
        .iter()
        .any(|i| i["name"] == "sse - latency p99 / floor p50"));
    // info rows (not smaller-is-better gates) stay out
    assert!(!arr
        .iter()
        .any(|i| i["name"] == "sse - deliveries per second"));
}

#[test]
fn gate_format_names_the_verdict_and_the_regressed_phases() {
    let c = cmp(pair(), pair());
    assert_eq!(
        c.gate(),
        "verdict=pass\nregressed=\nregressions=0\nwarnings=0\n"
    );
    let mut cur = pair();
    cur.transports[1].gaps = 1;
    cur.transports[0].requests = 700;
    cur.transports[0].gaps = 2;
    let c = cmp(pair(), cur.clone());
    assert_eq!(c.verdict(), GateVerdict::Regression);
    assert_eq!(
        c.regressed(),
        ["poll", "sse"],
        "each phase once, in table order"
    );
    assert!(c
        .gate()
        .starts_with("verdict=regression\nregressed=poll,sse\nregressions=3\n"));
    // a warning fails only under --strict, and then names its phase
    let mut cur = pair();
    cur.transports[1].saturated = true;
    let c = cmp(pair(), cur.clone());
    assert_eq!((c.verdict(), c.regressed().len()), (GateVerdict::Pass, 0));
    let c = compare_runs(
        &Run::Summary(pair()),
        &Run::Summary(cur),
        &th(),
        false,
        true,
    )
    .unwrap();
    assert_eq!(c.verdict(), GateVerdict::Regression);
    assert_eq!(c.regressed(), ["sse"]);
    assert!(
        gate_bad_input("x: no such file\nor folder").starts_with("verdict=bad-input\nregressed=\n")
    );
    assert_eq!(GateVerdict::BadInput.exit_code(), 2);
}

/// Both runs with the median of their seconds' p99s (as `tail::attach` adds from latency.hlog).
fn with_medians(mut s: Summary, sse_median: u64) -> Summary {
    use super::tail::P99_MEDIAN_KEY;
    for t in &mut s.transports {
        let m = if t.name == "sse" {
            sse_median
        } else {
            t.latency_us.p99
        };
        t.extra.insert(P99_MEDIAN_KEY.into(), m as f64);
    }
    s
}

#[test]
fn one_stalled_second_is_not_a_regression_with_the_median_tail() {
    // The window's p99 is 10× the baseline's (one stall decided it), every other second as before.
    let mut cur = with_medians(pair(), 800);
    cur.transports[1].latency_us.p99 *= 10;
    let c = cmp(with_medians(pair(), 800), cur.clone());
    assert_eq!(c.exit_code(), 0, "{}", c.markdown());
    assert_eq!(
        verdict_of(&c, "sse", "latency p99 (median of seconds) / floor p50").verdict,
        RowVerdict::Ok
    );
    assert_eq!(
        verdict_of(&c, "sse", "latency p99 of the window").verdict,
        RowVerdict::Info
    );
    // The same current run judged without the log: the window's p99 regresses.
    let mut bare = cur;
    for t in &mut bare.transports {
        t.extra.clear();
    }
    let c = cmp(pair(), bare);
    assert_eq!(
        verdict_of(&c, "sse", "latency p99 / floor p50").verdict,
        RowVerdict::Regression
    );
}

#[test]
fn a_slower_server_moves_the_median_tail_and_is_caught() {
    let mut cur = with_medians(pair(), 800 * 6);
    cur.transports[1].latency_us.p99 *= 6;
    let c = cmp(with_medians(pair(), 800), cur);
    assert_eq!(c.exit_code(), 1, "{}", c.markdown());
    assert_eq!(
        verdict_of(&c, "sse", "latency p99 (median of seconds) / floor p50").verdict,
        RowVerdict::Regression
    );
    // Schedule-bound transports use it too.
    let mut cur = with_medians(pair(), 800);
    cur.transports[0]
        .extra
        .insert(super::tail::P99_MEDIAN_KEY.into(), 800.0 * 3.0);
    let c = cmp(with_medians(pair(), 800), cur);
    assert_eq!(
        verdict_of(
            &c,
            "poll",
            "latency p99 (median of seconds, schedule-bound)"
        )
        .verdict,
        RowVerdict::Regression
    );
}

#[test]
fn high_steal_turns_latency_regressions_into_warnings() {
    let mut cur = pair();
    cur.transports[1].latency_us.p99 *= 8;
    cur.transports[1].steal_pct = Some(tickbench_wire::HIGH_STEAL_PCT + 3.0);
    let c = cmp(pair(), cur.clone());
    assert_eq!(c.regressions(), 0, "{}", c.markdown());
    assert_eq!(c.exit_code(), 0);
    let row = verdict_of(&c, "sse", "latency p99 / floor p50");
    assert_eq!(row.verdict, RowVerdict::Warning);
    assert!(row.delta.contains("steal 5.0 %"), "{}", row.delta);
    assert_eq!(verdict_of(&c, "sse", "steal").verdict, RowVerdict::Warning);
    // Loss is never excused by steal.
    cur.transports[1].gaps = 1;
    assert_eq!(cmp(pair(), cur).exit_code(), 1);
    // Low steal changes nothing.
    let mut cur = pair();
    cur.transports[1].latency_us.p99 *= 8;
    cur.transports[1].steal_pct = Some(0.5);
    assert_eq!(cmp(pair(), cur).exit_code(), 1);
}

/// `pair()` with the sse phase at `sse_multiple` × the run's fan-out floor p50.
fn with_fanout(mut s: Summary, sse_multiple: f64) -> Summary {
    s.transports[1].floor_multiples = Some(tickbench_wire::FloorMultiples {
        latency_p50: sse_multiple,
        latency_p99: sse_multiple,
        cpu_per_delivery: 1.5,
    });
    s
}

#[test]
fn a_transport_twice_as_slow_against_the_fan_out_floor_is_caught() {
    // The loopback-floor rows forgive a 1.6× p50 (3× tolerance); the fan-out multiple does not.
    let mut cur = with_fanout(pair(), 1.1 * 1.6);
    cur.transports[1].latency_us.p50 = cur.transports[1].latency_us.p50 * 16 / 10;
    let c = cmp(with_fanout(pair(), 1.1), cur);
    assert_eq!(c.exit_code(), 1, "{}", c.markdown());
    assert_eq!(
        verdict_of(&c, "sse", "latency p50 / fan-out floor p50").verdict,
        RowVerdict::Regression
    );
    assert_eq!(
        verdict_of(&c, "sse", "latency p50 / floor p50").verdict,
        RowVerdict::Ok
    );
    assert_eq!(
        verdict_of(&c, "sse", "latency p99 / fan-out floor p99").verdict,
        RowVerdict::Info
    );
    // Within the tolerance (+35 %): run-to-run noise passes.
    let c = cmp(with_fanout(pair(), 1.1), with_fanout(pair(), 1.1 * 1.25));
    assert_eq!(c.exit_code(), 0, "{}", c.markdown());
    // A run without the fan-out floor (--no-fanout-floor) has no such row.
    let c = cmp(pair(), with_fanout(pair(), 3.0));
    assert!(!c
        .rows
        .iter()
        .any(|r| r.metric == "latency p50 / fan-out floor p50"));
}

#[test]
fn a_busy_machine_turns_latency_regressions_into_warnings() {
    use tickbench_loadgen::steal::{FOREIGN_CPU_KEY, HIGH_FOREIGN_PCT};
    let slower = |foreign: f64| {
        let mut cur = with_fanout(pair(), 1.1 * 2.0);
        cur.transports[1].latency_us.p99 *= 8;
        cur.transports[1]
            .extra
            .insert(FOREIGN_CPU_KEY.into(), foreign);
        cur
    };
    let c = cmp(with_fanout(pair(), 1.1), slower(HIGH_FOREIGN_PCT + 20.0));
    assert_eq!(c.regressions(), 0, "{}", c.markdown());
    assert_eq!(
        verdict_of(&c, "sse", "latency p50 / fan-out floor p50").verdict,
        RowVerdict::Warning
    );
    assert_eq!(
        verdict_of(&c, "sse", "foreign CPU").verdict,
        RowVerdict::Warning
    );
    // A quiet machine: the same figures are regressions.
    let c = cmp(with_fanout(pair(), 1.1), slower(3.0));
    assert_eq!(c.exit_code(), 1, "{}", c.markdown());
    assert!(!c.rows.iter().any(|r| r.metric == "foreign CPU"));
}
