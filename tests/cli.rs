//! The command line as a user meets it: clap's hints, `run` flags without `run`, `-q`, `--format
//! json`, exit codes (130 after Ctrl-C), completions and the man page. The real binary; runs are a
//! few seconds with a handful of clients on an embedded server on 127.0.0.1.

use std::process::{Command, Output};
use std::time::Duration;

fn tickbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickbench"))
}

fn run(args: &[&str]) -> Output {
    tickbench().args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_misspelled_flag_keeps_claps_hint() {
    for args in [&["run", "--client", "5"][..], &["--client", "5"][..]] {
        let out = run(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("a similar argument exists: '--clients'"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("Usage:"), "{stderr}");
    }
}

#[test]
fn help_says_what_a_bare_tickbench_does_and_how_long() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("A bare `tickbench` runs the full"),
        "{stdout}"
    );
    assert!(stdout.contains("minutes"), "{stdout}");
    assert!(stdout.contains("130"), "exit codes listed: {stdout}");
    assert!(stdout.contains("--no-tui"), "run options listed: {stdout}");
}

#[test]
fn run_options_before_another_subcommand_are_refused() {
    let out = run(&["--no-tui", "serve"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("'--no-tui' is a `run` option"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn completions_and_man_page_come_from_the_clap_definitions() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(
            script.contains("tickbench") && script.contains("clients"),
            "{shell}"
        );
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["man"]);
    assert!(out.status.success());
    let page = text(&out.stdout);
    assert!(page.contains(".TH tickbench 1"), "{page}");
    assert!(page.contains("completions"), "{page}");
}

#[test]
fn bare_run_flags_quiet_json_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = tickbench()
        .args([
            "-q",
            "--no-tui",
            "-c",
            "5",
            "-d",
            "1s",
            "--warmup",
            "0s",
            "--ramp",
            "0s",
            "-t",
            "sse",
            "--format",
            "json",
            "--fail-on-saturated",
            "-o",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    // A one-core CI box may saturate even this run; --fail-on-saturated then says so with 3.
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{stdout}\n{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is the summary");
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["transports"][0]["name"], "sse");
    let saturated = summary["transports"][0]["saturated"].as_bool().unwrap();
    assert_eq!(out.status.code() == Some(3), saturated, "{stderr}");
    // -q: no progress lines; what is on stdout is what was written.
    assert!(!stderr.contains("phase"), "quiet: {stderr}");
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("latest/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written, summary);
}

#[test]
fn ctrl_c_ends_a_run_with_130_and_partial_results() {
    let dir = tempfile::tempdir().unwrap();
    let child = tickbench()
        .args([
            "run", "--no-tui", "-c", "5", "-d", "20s", "--warmup", "0s", "--ramp", "1s", "-t",
            "stream", "-o",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the provisional summary, written before the first phase.
    let summary_path = dir.path().join("latest/summary.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !summary_path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no provisional summary"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_path).unwrap()).unwrap();
    assert_eq!(v["complete"], false);
}

#[test]
fn environment_variables_set_run_flags() {
    // TICKBENCH_CLIENTS is not a variable; TICKBENCH_LABEL is, and a bad one is refused by the
    // same check as the flag, naming the flag.
    let out = tickbench()
        .args(["run", "--no-tui"])
        .env("TICKBENCH_LABEL", "../escape")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--label"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn show_prints_json_and_csv_for_programs() {
    let baseline = concat!(env!("CARGO_MANIFEST_DIR"), "/results/baseline");
    // What the file says, as this version reads it: fields added since it was written show
    // with their defaults (e.g. each phase's protocol), exactly as `show` prints them.
    let stored: tickbench_wire::Summary =
        serde_json::from_str(&std::fs::read_to_string(format!("{baseline}/summary.json")).unwrap())
            .unwrap();
    let stored = serde_json::to_value(&stored).unwrap();
    let out = run(&["show", baseline, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(shown["transports"], stored["transports"]);
    let out = run(&["show", baseline, baseline, "-f", "json"]);
    let shown: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(shown.as_array().unwrap().len(), 2);

    let out = run(&["show", baseline, "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("run,label,complete,transport,"),
        "{csv}"
    );
    let n = stored["transports"].as_array().unwrap().len();
    assert_eq!(lines.len(), 1 + n, "{csv}");
    let p99 = stored["transports"][0]["latency_us"]["p99"].to_string();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header.iter().position(|h| *h == "latency_p99_us").unwrap();
    assert_eq!(lines[1].split(',').nth(col), Some(p99.as_str()), "{csv}");
}
