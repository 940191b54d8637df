//! `tickbench cluster up/status/down` on loopback, through the built binary: every process
//! starts detached and answers (edges serve the same stream, a short coordinated run goes through
//! both agents), a second `up` in the same DIR is refused, and after `down` nothing is left and
//! the state says so; `down` again is harmless.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use tickbench_cluster::launch::state::{Phase, Role, State};

use crate::support::range;

/// The `tickbench` binary beside this test binary (`target/debug/tickbench`), which `cargo test
/// --workspace` builds; with `-p tickbench-cluster` alone, build it first.
pub fn tickbench() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let p = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("tickbench");
    assert!(
        p.is_file(),
        "{} missing: run `cargo build --bin tickbench` first (`cargo test --workspace` builds it)",
        p.display()
    );
    p
}

/// `tickbench ARGS`, its output.
pub fn cli(args: &[&str]) -> Output {
    Command::new(tickbench())
        .args(args)
        .env_remove("TICKBENCH_CLUSTER_DIR")
        .output()
        .expect("tickbench runs")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `cluster down --dir DIR` when dropped, so a failing test leaves no process behind.
pub struct DownGuard(pub PathBuf);

impl Drop for DownGuard {
    fn drop(&mut self) {
        let _ = cli(&["cluster", "down", "--dir", self.0.to_str().unwrap()]);
    }
}

/// `TICKBENCH_SKIP_NATS=1`: says so and skips.
pub fn skip_nats() -> bool {
    let skip = std::env::var("TICKBENCH_SKIP_NATS").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("SKIPPED: TICKBENCH_SKIP_NATS=1, no cluster launcher test ran");
    }
    skip
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_up_status_down_leaves_nothing_running() {
    if skip_nats() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let d = dir.to_str().unwrap();
    let _guard = DownGuard(dir.clone());
    let up = cli(&[
        "cluster",
        "up",
        "--edges",
        "2",
        "--agents",
        "2",
        "--dir",
        d,
        "--symbols",
        "20",
        "--rate",
        "300",
        "--seed",
        "3",
    ]);
    assert!(up.status.success(), "up: {}", text(&up.stderr));
    let out = text(&up.stdout);
    assert!(
        out.contains("tickbench run --agents 2 --nats nats://127.0.0.1:"),
        "{out}"
    );
    assert!(out.contains("tickbench cluster down --dir"), "{out}");

    let state = State::load(&dir).unwrap().expect("a state file");
    assert_eq!(state.phase, Phase::Up);
    let roles: Vec<Role> = state.procs.iter().map(|p| p.role).collect();
    assert_eq!(
        roles,
        [
            Role::Nats,
            Role::Feed,
            Role::Edge,
            Role::Edge,
            Role::Agent,
            Role::Agent
        ]
    );
    assert!(state.procs.iter().all(|p| p.alive()), "{state:?}");
    for p in &state.procs {
        // Its own session, its own file limit.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", p.pid)).unwrap();
        let sid: u32 = stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .nth(3)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(sid, p.pid, "{} leads its own session", p.name);
    }
    let edges = state.edge_urls();
    assert_eq!(edges.len(), 2);
    assert_ne!(edges[0], edges[1]);

    // A handful of clients: both edges serve the same ticks.
    let a = range(&edges[0], 1, 200).await;
    let b = range(&edges[1], 1, 200).await;
    assert_eq!(a, b, "two edges serve one stream");

    // The printed way to drive it works: a short coordinated run over both agents.
    let results = tmp.path().join("results");
    let nats = state.nats_url.clone().unwrap();
    let run = tokio::task::spawn_blocking({
        let targets = edges.join(",");
        let results = results.clone();
        move || {
            cli(&[
                "run",
                "--agents",
                "2",
                "--nats",
                &nats,
                "--targets",
                &targets,
                "--clients",
                "6",
                "--transports",
                "sse",
                "--duration",
                "2s",
                "--warmup",
                "0s",
                "--ramp",
                "0s",
                "--no-tui",
                "--out",
                results.to_str().unwrap(),
            ])
        }
    })
    .await
    .unwrap();
    assert!(run.status.success(), "run --agents: {}", text(&run.stderr));
    let folder = PathBuf::from(text(&run.stdout).trim());
    assert!(
        folder.join("summary.json").is_file(),
        "{}",
        folder.display()
    );

    // A second `up` in the same DIR: one line, non-zero.
    let again = cli(&["cluster", "up", "--dir", d]);
    assert!(!again.status.success());
    let err = text(&again.stderr);
    assert!(err.contains("already up"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let status = cli(&["cluster", "status", "--dir", d]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout).contains("6 of 6 processes running"),
        "{}",
        text(&status.stdout)
    );

    let down = cli(&["cluster", "down", "--dir", d]);
    assert!(down.status.success(), "down: {}", text(&down.stderr));
    let after = State::load(&dir).unwrap().unwrap();
    assert_eq!(after.phase, Phase::Down);
    for p in &after.procs {
        assert!(!p.alive(), "{} (pid {}) still runs", p.name, p.pid);
    }
    // The edges' ports are closed.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for e in &edges {
        let addr = e.trim_start_matches("http://");
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "{e} still answers"
        );
    }
    let status = cli(&["cluster", "status", "--dir", d]);
    assert!(!status.status.success(), "a stopped cluster is not up");
    assert!(text(&status.stdout).contains("down, 0 of 6 processes running"));
    let again = cli(&["cluster", "down", "--dir", d]);
    assert!(
        again.status.success(),
        "down is idempotent: {}",
        text(&again.stderr)
    );
}
