//! `tickbench run` end to end: the real binary, its embedded server child process, real sockets.

use std::process::Command;

fn tickbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickbench"))
}

/// A short `tickbench run --no-tui` (20 clients, 1 s ramp and warm-up, 2 s measured) with
/// `args` added, writing under `out`.
fn short_run(out: &std::path::Path, args: &[&str]) -> std::process::Output {
    tickbench()
        .args([
            "run",
            "--clients",
            "20",
            "--duration",
            "2s",
            "--warmup",
            "1s",
            "--ramp",
            "1s",
            "--no-tui",
            "--out",
        ])
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn short_run_writes_results_and_stops_its_server() {
    let out = tempfile::tempdir().unwrap();
    let output = short_run(out.path(), &["--transports", "poll,sse"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("| transport "), "table printed: {stdout}");
    assert!(
        stdout.contains("| poll ") && stdout.contains("| sse "),
        "{stdout}"
    );

    let latest = out.path().join("latest");
    let link = std::fs::read_link(&latest).unwrap();
    assert!(link.is_relative(), "{link:?}");
    for f in [
        "summary.json",
        "poll.hgrm",
        "sse.hgrm",
        "latency.hlog",
        "report.md",
        "latency.svg",
    ] {
        assert!(latest.join(f).is_file(), "{f} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(latest.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["transports"].as_array().unwrap().len(), 2);
    for t in summary["transports"].as_array().unwrap() {
        assert_eq!(t["gaps"], 0, "{t}");
        assert_eq!(t["duplicates"], 0, "{t}");
        assert!(t["delivered"].as_u64().unwrap() > 0, "{t}");
        // The embedded server is a child process, so its memory is measured.
        assert!(t["server_rss_bytes"].as_u64().unwrap() > 0, "{t}");
    }
    // The child server does not outlive the run.
    let pid = summary["config"]["server_pid"].as_u64().unwrap();
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        !cmdline.contains("serve"),
        "server child {pid} still running"
    );
}

/// With more clients than twice fit in the load generator's open-file limit (forced here with
/// the hidden `--floor-process`), the fan-out floor runs as `tickbench fanout-floor`: measured
/// like the in-process one, and gone when the run ends.
#[test]
fn the_fan_out_floor_runs_in_its_own_process_when_asked() {
    let out = tempfile::tempdir().unwrap();
    let output = short_run(
        out.path(),
        &["--transports", "sse", "--rate", "50", "--floor-process"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stderr:\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("latest/summary.json")).unwrap(),
    )
    .unwrap();
    let floor = &summary["fanout_floor"];
    assert_eq!(floor["clients_receiving"], 20, "{floor}");
    assert!(floor["delivered"].as_u64().unwrap() > 0, "{floor}");
    assert_eq!(floor["gaps"], 0, "{floor}");
    assert_eq!(floor["duplicates"], 0, "{floor}");
    assert!(floor["server_cpu_s"].as_f64().unwrap() > 0.0, "{floor}");
    // No `fanout-floor` process outlives the run.
    let ps = Command::new("pgrep")
        .args(["-f", "fanout-floor --transport"])
        .output()
        .unwrap();
    let left = String::from_utf8_lossy(&ps.stdout);
    let ours: Vec<&str> = left
        .lines()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.contains(env!("CARGO_BIN_EXE_tickbench")))
        })
        .collect();
    assert!(ours.is_empty(), "fan-out floor processes left: {ours:?}");
}

#[test]
fn bad_flags_fail_with_one_clear_line() {
    for (args, needle) in [
        (&["run", "--clients", "0"][..], "clients"),
        (&["run", "--transports", "nope"][..], "nope"),
        (&["run", "--duration", "-1"][..], "duration"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let output = tickbench()
            .args(args)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            0,
            "no results"
        );
    }
}

#[test]
fn unreachable_target_fails_with_one_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tempfile::tempdir().unwrap();
    let output = tickbench()
        .args(["run", "--no-tui", "--target"])
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
}

#[test]
fn sigterm_writes_an_incomplete_run_and_stops_the_server() {
    let out = tempfile::tempdir().unwrap();
    let child = tickbench()
        .args([
            "run",
            "--clients",
            "10",
            "--duration",
            "20s",
            "--warmup",
            "1s",
            "--ramp",
            "1s",
            "--transports",
            "sse,poll",
            "--no-tui",
            "--out",
        ])
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Well inside the first phase's measured window (start-up + floor + 2 s).
    std::thread::sleep(std::time::Duration::from_millis(4_000));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Stopped early is not finished: 128 + SIGTERM, as a shell reports it.
    assert_eq!(output.status.code(), Some(143), "{stdout}\n{stderr}");
    assert!(stdout.contains("interrupted"), "{stdout}\n{stderr}");

    let latest = out.path().join("latest");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(latest.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["complete"], false);
    assert!(summary["transports"].as_array().unwrap().len() <= 1);
    let pid = summary["config"]["server_pid"].as_u64().unwrap();
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        !cmdline.contains("serve"),
        "server child {pid} still running"
    );
}

#[test]
fn a_dying_embedded_server_ends_the_run_with_one_line() {
    let out = tempfile::tempdir().unwrap();
    let child = tickbench()
        .args([
            "run",
            "--clients",
            "5",
            "--duration",
            "20s",
            "--transports",
            "stream",
            "--no-tui",
            "--out",
        ])
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The provisional summary, written before the first phase, names the server's pid.
    let summary_path = out.path().join("latest").join("summary.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let pid = loop {
        if let Ok(text) = std::fs::read_to_string(&summary_path) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["complete"], false);
            break v["config"]["server_pid"].as_u64().unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no provisional summary"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    assert!(Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("embedded server") && stderr.contains("exited"),
        "{stderr}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_path).unwrap()).unwrap();
    assert_eq!(
        v["complete"], false,
        "an interrupted run never looks complete"
    );
}

/// Stops a `tickbench serve` child however the test ends.
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_external_target_is_measured_from_its_process_metrics() {
    use std::io::BufRead;
    // A real server in its own process, whose pid the run is not told: its CPU and memory can
    // only come from its `/metrics`.
    let mut serve = Serve(
        tickbench()
            .args(["serve", "--addr", "127.0.0.1:0", "--rate", "200", "-q"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut first = String::new();
    std::io::BufReader::new(serve.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let out = tempfile::tempdir().unwrap();
    let output = tickbench()
        .args([
            "run",
            "--target",
            &url,
            "--clients",
            "10",
            "--duration",
            "2s",
            "--warmup",
            "1s",
            "--ramp",
            "1s",
            "--transports",
            "sse",
            "--no-tui",
            "--no-fanout-floor",
            "--format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["config"]["server_pid"], serde_json::Value::Null);
    assert!(
        summary["config"]["server_stats"]
            .as_str()
            .unwrap()
            .contains("/metrics"),
        "{}",
        summary["config"]
    );
    let sse = &summary["transports"][0];
    assert!(sse["delivered"].as_u64().unwrap() > 0, "{sse}");
    assert!(sse["server_cpu_s"].as_f64().unwrap() > 0.0, "{sse}");
    assert!(sse["server_rss_bytes"].as_u64().unwrap() > 0, "{sse}");
}
