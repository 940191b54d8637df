//! `tickbench sweep` and `tickbench compare` through the real binary: exit codes, one-line errors,
//! the Markdown and JSON outputs, and a tiny end-to-end sweep against embedded servers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tickbench_wire::{Floor, LatencySummary, Summary, TransportSummary, SCHEMA_VERSION};

fn tickbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickbench"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the tickbench binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn phase(name: &str) -> TransportSummary {
    TransportSummary {
        name: name.into(),
        clients: 100,
        clients_receiving: 100,
        duration_s: 10.0,
        delivered: 20_000,
        gaps: 0,
        duplicates: 0,
        out_of_order: 0,
        gap_notices: 0,
        latency_us: LatencySummary {
            min: 40,
            p50: 300,
            p90: 600,
            p99: 1200,
            p999: 2500,
            max: 5000,
            mean: 350.0,
        },
        requests: 1000,
        empty_responses: 300,
        bytes: 3_000_000,
        errors: Default::default(),
        reconnects: 0,
        first_tick_ms_p50: 3.0,
        server_cpu_s: 0.4,
        loadgen_cpu_s: 0.9,
        server_rss_bytes: 12 << 20,
        loadgen_rss_bytes: 30 << 20,
        saturated: false,
        saturation_reasons: vec![],
        schedule_lag_us_p99: 200,
        floor_multiples: None,
        steal_pct: None,
        bare_http: None,
        takeover: None,
        link: tickbench_wire::Link::default(),
        extra: Default::default(),
    }
}

fn summary() -> Summary {
    Summary {
        schema: SCHEMA_VERSION,
        tickbench_version: "test".into(),
        label: "ci".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        complete: true,
        config: serde_json::json!({}),
        floor_us: Floor {
            p50: 15.0,
            p99: 40.0,
        },
        floor_cross_us: None,
        fanout_floor: None,
        transports: vec![phase("poll"), phase("longpoll"), phase("sse")],
        browser: None,
        hgrm_unit: Default::default(),
        host: None,
    }
}

fn write(dir: &Path, name: &str, s: &Summary) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("summary.json");
    std::fs::write(&p, serde_json::to_string_pretty(s).unwrap()).unwrap();
    p
}

/// One line on stderr, exit 2: what a CI log should show for unusable input.
fn assert_bad_input(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{needle:?} in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn compare_passes_identical_runs_and_flags_an_injected_regression() {
    let tmp = tempfile::tempdir().unwrap();
    let base = write(tmp.path(), "base", &summary());
    let same = write(tmp.path(), "same", &summary());
    let out = tickbench(&["compare", base.to_str().unwrap(), same.to_str().unwrap()]);
    let md = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{md}{}", text(&out.stderr));
    assert!(md.contains("| phase | metric | baseline | current | delta | limit | verdict |"));
    assert!(md.contains("**PASS**"));
    assert!(!md.contains("REGRESSION"));

    // a folder works as well as the file in it; inject loss and polling overhead
    let mut bad = summary();
    bad.transports[2].gaps = 3;
    bad.transports[0].requests = 2000;
    let cur = write(tmp.path(), "bad", &bad);
    let out = tickbench(&[
        "compare",
        base.parent().unwrap().to_str().unwrap(),
        cur.parent().unwrap().to_str().unwrap(),
    ]);
    let md = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{md}");
    assert!(
        md.contains("| sse | loss (gaps+dup+ooo) (ticks) | 0 | 3 |"),
        "{md}"
    );
    assert!(md.contains("| poll | requests per tick"), "{md}");
    assert_eq!(md.matches("**REGRESSION**").count(), 2, "{md}");
    assert!(md.contains("**FAIL**"));

    // a looser tolerance forgives the overhead, never the loss
    let out = tickbench(&[
        "compare",
        base.to_str().unwrap(),
        cur.to_str().unwrap(),
        "--tol-requests-per-tick",
        "1.5",
    ]);
    assert_eq!(text(&out.stdout).matches("**REGRESSION**").count(), 1);
}

#[test]
fn compare_warns_on_saturation_and_fails_with_strict() {
    let tmp = tempfile::tempdir().unwrap();
    let base = write(tmp.path(), "base", &summary());
    let mut s = summary();
    s.complete = false;
    s.transports[2].saturated = true;
    s.transports[2].saturation_reasons = vec!["load generator CPU at 100 %".into()];
    let cur = write(tmp.path(), "cur", &s);
    let out = tickbench(&["compare", base.to_str().unwrap(), cur.to_str().unwrap()]);
    let md = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{md}");
    assert!(md.contains("load generator CPU at 100 %"), "{md}");
    assert!(md.contains("complete:false"), "{md}");
    let out = tickbench(&[
        "compare",
        base.to_str().unwrap(),
        cur.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn compare_benchmark_is_github_action_benchmark_shaped() {
    let tmp = tempfile::tempdir().unwrap();
    let base = write(tmp.path(), "base", &summary());
    let out = tickbench(&[
        "compare",
        base.to_str().unwrap(),
        base.to_str().unwrap(),
        "--format",
        "benchmark",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let arr = v.as_array().expect("a JSON array");
    assert!(arr.len() >= 12, "{v}");
    for item in arr {
        let o = item.as_object().unwrap();
        assert!(o["name"].is_string(), "{item}");
        assert!(o["unit"].is_string(), "{item}");
        assert!(o["value"].is_number(), "{item}");
        assert!(o.get("range").is_none_or(|r| r.is_string()));
        assert!(o.get("extra").is_none_or(|r| r.is_string()));
        assert!(o
            .keys()
            .all(|k| ["name", "unit", "value", "range", "extra"].contains(&k.as_str())));
    }
    let names: Vec<&str> = arr.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"sse - latency p50 / floor p50"),
        "{names:?}"
    );
    assert!(names.contains(&"poll - empty responses"), "{names:?}");
}

/// `--format json`: the verdict and the regressed phases, decided in Rust.
#[test]
fn compare_json_carries_the_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let base = write(tmp.path(), "base", &summary());
    let b = base.to_str().unwrap();
    let mut bad = summary();
    bad.transports[2].gaps = 3;
    bad.transports[0].requests = 2000;
    let cur = write(tmp.path(), "bad", &bad);
    let out = tickbench(&["compare", b, cur.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["verdict"], "regression");
    assert_eq!(v["regressed"], serde_json::json!(["poll", "sse"]));

    let missing = tmp.path().join("nope.json");
    let out = tickbench(&["compare", b, missing.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["verdict"], "bad-input");
    assert!(v["error"].as_str().unwrap().contains("no such file"), "{v}");
}

/// `--format gate`: what .ci/run decides on, with exit codes to match.
#[test]
fn compare_gate_format_is_the_ci_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let base = write(tmp.path(), "base", &summary());
    let b = base.to_str().unwrap();
    let out = tickbench(&["compare", b, b, "--format", "gate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "verdict=pass\nregressed=\nregressions=0\nwarnings=0\n"
    );

    let mut bad = summary();
    bad.transports[2].gaps = 3;
    bad.transports[0].requests = 2000;
    let cur = write(tmp.path(), "bad", &bad);
    let out = tickbench(&["compare", b, cur.to_str().unwrap(), "--format", "gate"]);
    assert_eq!(out.status.code(), Some(1));
    let gate = text(&out.stdout);
    assert!(
        gate.starts_with("verdict=regression\nregressed=poll,sse\n"),
        "{gate}"
    );

    let missing = tmp.path().join("nope.json");
    let out = tickbench(&["compare", b, missing.to_str().unwrap(), "--format", "gate"]);
    assert_bad_input(&out, "no such file");
    assert!(text(&out.stdout).starts_with("verdict=bad-input\nregressed=\n"));
}

#[test]
fn compare_bad_input_is_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let base = write(tmp.path(), "base", &summary());
    let b = base.to_str().unwrap();

    let missing = tmp.path().join("nope.json");
    assert_bad_input(
        &tickbench(&["compare", b, missing.to_str().unwrap()]),
        "no such file",
    );

    let mut v = serde_json::to_value(summary()).unwrap();
    v["schema"] = 999.into();
    let wrong = tmp.path().join("wrong.json");
    std::fs::write(&wrong, v.to_string()).unwrap();
    assert_bad_input(
        &tickbench(&["compare", b, wrong.to_str().unwrap()]),
        "schema 999",
    );

    let mut other = summary();
    other.transports = vec![phase("iframe")];
    let other = write(tmp.path(), "other", &other);
    assert_bad_input(
        &tickbench(&["compare", b, other.to_str().unwrap()]),
        "no common transport",
    );

    let garbage = tmp.path().join("garbage.json");
    std::fs::write(&garbage, "not json at all").unwrap();
    assert_bad_input(
        &tickbench(&["compare", b, garbage.to_str().unwrap()]),
        "not JSON",
    );

    let th = tmp.path().join("t.toml");
    std::fs::write(&th, "latency = 1.0\nlatensy = 2\n").unwrap();
    assert_bad_input(
        &tickbench(&["compare", b, b, "--thresholds", th.to_str().unwrap()]),
        "t.toml:2",
    );
}

#[test]
fn bad_experiment_names_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.toml");
    std::fs::write(
        &f,
        "name = \"bad\"\nclaim = \"x\"\ntransports = [\"sse\"]\nclients = [10]\nduraton = \"2s\"\n",
    )
    .unwrap();
    let out = tickbench(&["sweep", f.to_str().unwrap(), "--dry-run"]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("bad.toml:5:"), "{err}");
    assert!(err.contains("unknown field `duraton`"), "{err}");

    std::fs::write(
        &f,
        "name = \"bad\"\nclaim = \"x\"\ntransports = [\"sse\"]\nclients = [10]\nrate = [0]\nduration = \"2s\"\n",
    )
    .unwrap();
    let out = tickbench(&["sweep", f.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.toml:5:") && err.contains("out of range"),
        "{err}"
    );
}

#[test]
fn shipped_experiments_dry_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    for name in ["polling-waste", "longpoll-vs-rate", "piggyback", "scale"] {
        let f = dir.join(format!("{name}.toml"));
        let out = tickbench(&["sweep", f.to_str().unwrap(), "--dry-run"]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with(&format!("experiment {name}:")));
    }
}

/// Two ~2 s cells on fresh embedded servers, then the sweep compared with itself.
#[test]
fn tiny_sweep_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("tiny.toml");
    std::fs::write(
        &f,
        r#"
name = "tiny"
claim = "SSE serves a handful of clients without loss"
transports = ["sse"]
clients = [3, 6]
rate = [20]
duration = "2s"
warmup = "0s"
ramp = "200ms"

[verdict]
kind = "scale"
"#,
    )
    .unwrap();
    let out_dir = tmp.path().join("results");
    let out = tickbench(&[
        "sweep",
        f.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("[1/2]") && err.contains("[2/2]"),
        "progress: {err}"
    );
    let dir = PathBuf::from(text(&out.stdout).trim());
    assert!(dir.starts_with(&out_dir), "{}", dir.display());
    for f in [
        "experiment.toml",
        "sweep.json",
        "sweep.csv",
        "report.md",
        "charts/latency_vs_clients.svg",
        "cells/sse-c3-r20/summary.json",
        "cells/sse-c3-r20/sse.hgrm",
        "cells/sse-c6-r20/summary.json",
        "cells/sse-c6-r20/sse.hgrm",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let sweep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(sweep["complete"], true);
    assert_eq!(sweep["cells"].as_array().unwrap().len(), 2);
    assert!(sweep["verdict"]["outcome"].is_string());
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("## Verdict") && md.contains("**Verdict: the claim "),
        "{md}"
    );

    let out = tickbench(&["compare", dir.to_str().unwrap(), dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("sse-c6-r20"));
}
