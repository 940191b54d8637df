//! `tickbench serve --tls` and `tickbench run --tls --http2` (and `wss://`) end to end: the real
//! binary, its embedded server child process (its printed fingerprint pinned), real sockets.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn tickbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickbench"))
}

#[test]
fn serve_tls_prints_https_and_the_fingerprint_and_writes_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let mut child = tickbench()
        .args(["serve", "--tls", "--addr", "127.0.0.1:0", "--rate", "0"])
        .arg("--tls-cert-out")
        .arg(&cert)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        first.starts_with("listening on https://127.0.0.1:"),
        "{first}"
    );
    let fp = second
        .strip_prefix("tls sha256 ")
        .expect("fingerprint line");
    assert_eq!(fp.len(), 95, "{fp}");
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
}

#[test]
fn bad_tls_flags_fail_with_one_clear_line() {
    for (args, needle) in [
        (&["serve", "--tls-cert", "x.pem"][..], "required"),
        (
            &[
                "serve",
                "--tls",
                "--tls-cert",
                "/nonexistent.pem",
                "--tls-key",
                "/nonexistent.key",
            ][..],
            "/nonexistent.pem",
        ),
        (&["run", "--tabs-per-conn", "4"][..], "--http2"),
    ] {
        let out = tickbench().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn run_over_tls_and_http2_with_the_embedded_server_loses_nothing() {
    let out = tempfile::tempdir().unwrap();
    let output = tickbench()
        .args([
            "run",
            "--tls",
            "--http2",
            "--tabs-per-conn",
            "5",
            "--clients",
            "20",
            "--duration",
            "2s",
            "--warmup",
            "1s",
            "--ramp",
            "1s",
            "--transports",
            "sse,longpoll,ws",
            "--no-tui",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("latest/summary.json")).unwrap(),
    )
    .unwrap();
    assert!(summary["config"]["target"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    for t in summary["transports"].as_array().unwrap() {
        assert_eq!(t["gaps"], 0, "{t}");
        assert_eq!(t["duplicates"], 0, "{t}");
        assert_eq!(t["out_of_order"], 0, "{t}");
        assert!(t["delivered"].as_u64().unwrap() > 0, "{t}");
        assert_eq!(t["clients_receiving"], 20, "{t}");
        assert_eq!(t["tls"], true, "{t}");
        if t["name"] == "ws" {
            // wss://: an HTTP/1.1 upgrade of a connection of its own.
            assert_eq!(t["protocol"], "h1", "{t}");
            assert_eq!(t["tabs_per_conn"], 1, "{t}");
        } else {
            assert_eq!(t["protocol"], "h2", "{t}");
            assert_eq!(t["tabs_per_conn"], 5, "{t}");
        }
    }
}
