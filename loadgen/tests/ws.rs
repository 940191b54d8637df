//! The WebSocket client beyond what `clients.rs` checks for every transport: chaos faults through
//! the proxy, a slow reader behind a small receive window that learns of its loss from a gap
//! notice, and whole runs of `ws` (plain, slow clients, chaos) with no loss.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tickbench_loadgen::chaos::{ChaosProxy, ChaosSpec, Fault};
use tickbench_loadgen::clients::{ClientConfig, ErrorKind, ReadRate};
use tickbench_loadgen::{run_with_progress, RunOpts, Watch};
use tickbench_server::Config;
use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

mod common;
use common::{journal, spawn_client, spawn_server, RecSink};

/// Every fault the proxy injects mid-session is survived: all ticks once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_every_chaos_fault() {
    for fault in [
        Fault::Reset,
        Fault::Cut,
        Fault::Stall(Duration::from_secs(3)),
    ] {
        let srv = spawn_server(Config {
            rate: 0.0,
            symbols: 20,
            ..Config::default()
        })
        .await;
        let base = srv.url().trim_end_matches('/').to_string();
        let upstream: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
        let proxy = ChaosProxy::start(upstream, ChaosSpec::default(), 1, 1).unwrap();
        let mut cfg = ClientConfig::new(proxy.url().parse().unwrap(), Transport::Ws);
        cfg.since = Some(1);
        // A stalled session is noticed by the client's own timeout.
        cfg.stream_timeout = Duration::from_secs(1);
        let sink = RecSink::default();
        let cancel = CancellationToken::new();
        let task = spawn_client(cfg, &sink, &cancel);
        srv.publish(30);
        sink.wait_ticks(30).await;
        assert!(
            proxy.inject_all(fault) >= 1,
            "{fault:?} hit a live connection"
        );
        srv.publish(30);
        sink.wait_ticks_within(60, Duration::from_secs(20), "after the fault")
            .await;
        cancel.cancel();
        task.await.unwrap();
        let rec = sink.take();
        let seqs: Vec<u64> = rec.ticks.iter().map(|(t, _)| t.seq).collect();
        let want: Vec<u64> = journal(&base).await.iter().map(|t| t.seq).collect();
        assert_eq!(seqs, want, "{fault:?}: {rec:?}");
        assert_eq!(rec.silent_gaps() + rec.dups(), 0);
        assert!(rec.reconnects >= 1, "{fault:?} was noticed");
        srv.shutdown().await;
    }
}

/// A slow WebSocket reader behind a small receive window never catches up, yet learns of its
/// loss promptly: the server resets it (`--max-behind`), it resumes from its cursor, which the
/// short journal has evicted, and the new session opens with the gap notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_learns_of_its_loss_without_catching_up() {
    let srv = spawn_server(Config {
        rate: 0.0,
        symbols: 10,
        retain: 2_000,
        stream_max_behind: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    srv.publish(1);
    let base = srv.url().trim_end_matches('/').to_string();
    let mut cfg = ClientConfig::new(base.parse().unwrap(), Transport::Ws);
    cfg.since = Some(1);
    // ~4 kB/s: about 25 ticks a second, against ~10,000 published.
    cfg.read_rate = Some(ReadRate::new(4_000));
    let sink = RecSink::default();
    let cancel = CancellationToken::new();
    let task = spawn_client(cfg, &sink, &cancel);
    let t0 = Instant::now();
    while sink.0.lock().unwrap().gaps.is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(40),
            "no gap notice: {:?}",
            sink.0.lock().unwrap()
        );
        srv.publish(100);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    task.await.unwrap();
    {
        let r = sink.0.lock().unwrap();
        assert!(!r.ticks.is_empty(), "{r:?}");
        assert_eq!(r.silent_gaps(), 0, "{r:?}");
        assert_eq!(r.dups(), 0, "{r:?}");
        assert!(
            r.errors.contains(&ErrorKind::Io),
            "the server's reset was seen: {r:?}"
        );
    }
    srv.shutdown().await;
}

fn short_run(srv: &tickbench_server::ServerHandle, out: &std::path::Path) -> RunOpts {
    RunOpts {
        target: Some(srv.url()),
        transports: vec![Transport::Ws],
        clients: 20,
        duration: Duration::from_secs(2),
        warmup: Duration::from_secs(1),
        ramp: Duration::from_millis(500),
        watch: Watch::Count(5),
        workers: 2,
        label: "ws".into(),
        out: out.to_path_buf(),
        no_tui: true,
        ..RunOpts::default()
    }
}

fn run_server() -> (tokio::runtime::Runtime, tickbench_server::ServerHandle) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let srv = rt
        .block_on(tickbench_server::spawn(
            Config {
                rate: 100.0,
                seed: 5,
                symbols: 20,
                ..Config::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    (rt, srv)
}

/// `run --transports ws`: every client receives, nothing is lost, the row is in the report.
#[test]
fn a_ws_run_completes_with_no_loss() {
    let (rt, srv) = run_server();
    let out = tempfile::tempdir().unwrap();
    let (summary, dir) =
        run_with_progress(short_run(&srv, out.path()), None, CancellationToken::new()).unwrap();
    let t = &summary.transports[0];
    assert_eq!(t.name, "ws");
    assert_eq!(t.loss(), 0, "{t:?}");
    assert!(t.delivered > 0, "{t:?}");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("ws"), "{report}");
    assert!(dir.join("ws.hgrm").exists());
    rt.block_on(srv.shutdown());
}

/// Slow ws clients and chaos in one short run: still no silent loss.
#[test]
fn a_ws_run_with_slow_clients_and_chaos_loses_nothing_silently() {
    let (rt, srv) = run_server();
    let out = tempfile::tempdir().unwrap();
    let opts = RunOpts {
        slow_clients: 0.25,
        slow_factor: 10.0,
        chaos: Some("reset=5%,cut=5%".parse().unwrap()),
        ..short_run(&srv, out.path())
    };
    let (summary, _) = run_with_progress(opts, None, CancellationToken::new()).unwrap();
    let t = &summary.transports[0];
    assert_eq!(t.loss(), 0, "{t:?}");
    assert_eq!(t.extra["slow_clients"], 5.0);
    rt.block_on(srv.shutdown());
}
