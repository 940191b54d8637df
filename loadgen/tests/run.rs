//! Whole runs against an in-process quote server on 127.0.0.1:0 (`--target`), over real sockets.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use tickbench_loadgen::results::read as read_summary;
use tickbench_loadgen::{run_with_progress, Progress, RunOpts, Stage, Watch};
use tickbench_server::{Config, ServerHandle};
use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

/// A server on its own multi-thread runtime (the run builds its own runtimes and must not be
/// called from inside one).
fn server(rate: f64) -> (tokio::runtime::Runtime, ServerHandle) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let handle = rt
        .block_on(tickbench_server::spawn(
            Config {
                rate,
                seed: 7,
                symbols: 40,
                ..Config::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    (rt, handle)
}

fn short_opts(target: String, out: &std::path::Path) -> RunOpts {
    RunOpts {
        target: Some(target),
        transports: vec![Transport::Poll, Transport::Sse],
        clients: 8,
        duration: Duration::from_secs(1),
        warmup: Duration::from_secs(1),
        ramp: Duration::from_secs(1),
        poll_interval: Duration::from_millis(200),
        watch: Watch::Count(5),
        workers: 2,
        label: "itest".into(),
        out: out.to_path_buf(),
        no_tui: true,
        ..RunOpts::default()
    }
}

#[test]
fn short_run_writes_every_result_file_with_no_loss() {
    let (rt, srv) = server(200.0);
    let out = tempfile::tempdir().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let (summary, dir) = run_with_progress(
        short_opts(srv.url(), out.path()),
        Some(tx),
        CancellationToken::new(),
    )
    .unwrap();

    assert!(summary.complete);
    assert_eq!(summary.transports.len(), 2);
    assert!(summary.floor_us.p50 > 0.0);
    for t in &summary.transports {
        assert_eq!(t.loss(), 0, "{t:?}");
        assert!(t.delivered > 0, "{t:?}");
        assert!(t.bytes > 0, "{t:?}");
        assert_eq!(t.clients_receiving, 8, "{t:?}");
        assert!(
            t.latency_us.p50 > 0 && t.latency_us.p50 <= t.latency_us.max,
            "{t:?}"
        );
        assert_eq!(t.clients, 8);
        assert!(t.duration_s > 0.5 && t.duration_s < 3.0, "{t:?}");
        assert!(t.loadgen_cpu_s >= 0.0 && t.loadgen_rss_bytes > 0);
        // An external target (no pid): CPU and RSS from its `/metrics` `process_*` families, here
        // the test process's own, since the server runs in it.
        assert!(
            t.server_cpu_s > 0.0 && t.server_rss_bytes > 0,
            "external target: figures from its /metrics: {t:?}"
        );
    }
    // Polls are requests in the window; the SSE streams were opened during the ramp.
    assert!(summary.transports[0].requests > 0);
    assert_eq!(summary.config["server_pid"], serde_json::Value::Null);
    assert!(
        summary.config["server_stats"]
            .as_str()
            .is_some_and(|s| s.contains("/metrics")),
        "{}",
        summary.config
    );
    assert_eq!(summary.config["clients"], 8);

    for f in [
        "summary.json",
        "poll.hgrm",
        "sse.hgrm",
        "latency.hlog",
        "report.md",
        "latency.svg",
    ] {
        let p = dir.join(f);
        assert!(
            p.is_file() && p.metadata().unwrap().len() > 0,
            "{f} missing"
        );
    }
    let back = read_summary(&out.path().join("latest")).unwrap();
    assert!(back.complete);
    assert_eq!(back.transports.len(), 2);
    assert_eq!(
        back.transports[1].delivered,
        summary.transports[1].delivered
    );
    let hlog = std::fs::read_to_string(dir.join("latency.hlog")).unwrap();
    assert!(hlog.contains("Tag=poll,") && hlog.contains("Tag=sse,"));

    // Events: Started, then per phase PhaseStarted, Seconds of every stage, PhaseFinished; Finished.
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    assert!(matches!(events.first(), Some(Progress::Started { .. })));
    assert!(matches!(events.last(), Some(Progress::Finished { .. })));
    let stages: Vec<Stage> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Second(s) if s.transport == Transport::Poll => Some(s.stage),
            _ => None,
        })
        .collect();
    assert_eq!(
        stages,
        vec![Stage::Ramp, Stage::Warmup, Stage::Measure],
        "{stages:?}"
    );
    let finished = events
        .iter()
        .filter(|e| matches!(e, Progress::PhaseFinished(_)))
        .count();
    assert_eq!(finished, 2);
    rt.block_on(srv.shutdown());
}

#[test]
fn cancelled_run_is_written_as_incomplete() {
    let (rt, srv) = server(100.0);
    let out = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    std::thread::spawn(move || {
        // Inside the first phase's measured window (floor + 1 s ramp + 1 s warm-up).
        std::thread::sleep(Duration::from_millis(2_800));
        c.cancel();
    });
    let mut opts = short_opts(srv.url(), out.path());
    opts.duration = Duration::from_secs(5);
    let started = std::time::Instant::now();
    let (summary, dir) = run_with_progress(opts, None, cancel).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "cancel stops the run"
    );
    assert!(!summary.complete);
    assert!(summary.transports.len() <= 1);
    assert!(!read_summary(&dir).unwrap().complete);
    rt.block_on(srv.shutdown());
}

#[test]
fn unreachable_target_is_one_clear_error() {
    // Bind then drop: nothing listens on that port any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tempfile::tempdir().unwrap();
    let err = run_with_progress(
        short_opts(format!("http://127.0.0.1:{port}"), out.path()),
        None,
        CancellationToken::new(),
    )
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.starts_with("cannot reach http://127.0.0.1:"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "no results folder"
    );
}

#[test]
fn a_target_that_is_not_tickbench_is_refused() {
    // A minimal HTTP server that answers everything with 404.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found",
            );
        }
    });
    let out = tempfile::tempdir().unwrap();
    let err = run_with_progress(
        short_opts(format!("http://{addr}"), out.path()),
        None,
        CancellationToken::new(),
    )
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("is not a tickbench server"), "{msg}");
}

#[test]
fn bad_options_are_refused_before_anything_starts() {
    let out = tempfile::tempdir().unwrap();
    let mut o = short_opts("http://127.0.0.1:9".into(), out.path());
    o.clients = 0;
    let err = run_with_progress(o, None, CancellationToken::new()).unwrap_err();
    assert!(err.to_string().contains("--clients"), "{err}");
    let mut o = short_opts("http://127.0.0.1:9".into(), out.path());
    o.clients = 100_000_000;
    let err = run_with_progress(o, None, CancellationToken::new()).unwrap_err();
    assert!(err.to_string().contains("largest safe --clients"), "{err}");
}
