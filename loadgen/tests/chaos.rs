//! `--chaos` over real sockets: the fault proxy resets and cuts live connections and every client
//! resumes from its cursor with nothing lost, duplicated or reordered; a short whole run through
//! the proxy ends with no loss, every client receiving, and the faults in the summary.

use std::net::SocketAddr;
use std::time::Duration;

use tickbench_loadgen::chaos::{ChaosProxy, ChaosSpec, Fault};
use tickbench_loadgen::clients::{ClientConfig, SeqOutcome};
use tickbench_loadgen::{run_with_progress, RunOpts, Watch};
use tickbench_server::Config;
use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

mod common;
use common::{journal, spawn_client, spawn_server, RecSink};

/// How long a chaos test waits for a client's ticks.
const WAIT: Duration = Duration::from_secs(15);

/// Starts one client per transport from seq 1 against `url`, each recording into its own sink.
fn start_clients(
    url: &str,
    transports: &[Transport],
    cancel: &CancellationToken,
    configure: impl Fn(&mut ClientConfig),
) -> (Vec<RecSink>, Vec<tokio::task::JoinHandle<()>>) {
    let mut sinks = Vec::new();
    let mut tasks = Vec::new();
    for &t in transports {
        let mut cfg = ClientConfig::new(url.parse().unwrap(), t);
        cfg.since = Some(1);
        configure(&mut cfg);
        let sink = RecSink::default();
        tasks.push(spawn_client(cfg, &sink, cancel));
        sinks.push(sink);
    }
    (sinks, tasks)
}

/// Waits until every client has `n` ticks.
async fn wait_all(sinks: &[RecSink], transports: &[Transport], n: usize) {
    for (s, t) in sinks.iter().zip(transports) {
        s.wait_ticks_within(n, WAIT, t.name()).await;
    }
}

/// A fault, injected by hand into every live connection through the proxy mid-stream, is
/// survived by every transport: all ticks exactly once, in order, and the fault was applied.
async fn survives(fault: Fault) {
    let srv = spawn_server(Config {
        rate: 0.0,
        symbols: 20,
        ..Config::default()
    })
    .await;
    let base = srv.url().trim_end_matches('/').to_string();
    let upstream: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    // No periodic faults: the test injects its own, so the outcome does not depend on timing.
    let proxy = ChaosProxy::start(upstream, ChaosSpec::default(), 1, 1).unwrap();
    let transports = [
        Transport::Sse,
        Transport::Stream,
        Transport::Multipart,
        Transport::Iframe,
        Transport::Longpoll,
        Transport::Poll,
    ];
    let cancel = CancellationToken::new();
    let (sinks, tasks) = start_clients(&proxy.url(), &transports, &cancel, |cfg| {
        cfg.poll_interval = Duration::from_millis(30);
        cfg.longpoll_timeout = Duration::from_secs(5);
        cfg.stream_timeout = Duration::from_secs(20);
    });
    srv.publish(30);
    wait_all(&sinks, &transports, 30).await;
    let hit = proxy.inject_all(fault);
    assert!(hit >= transports.len(), "{hit} connections faulted");
    // A cut needs server bytes to cut: publish while the fault is pending, and after it.
    for _ in 0..4 {
        srv.publish(15);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let expected: Vec<u64> = journal(&base).await.iter().map(|t| t.seq).collect();
    wait_all(&sinks, &transports, expected.len()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    for task in tasks {
        task.await.unwrap();
    }
    let counts = proxy.counts();
    match fault {
        Fault::Reset => assert!(counts.resets >= transports.len() as u64, "{counts:?}"),
        Fault::Cut => assert!(counts.cuts >= 4, "{counts:?}"),
        Fault::Stall(_) => assert!(counts.stalls >= 1, "{counts:?}"),
    }
    let mut reconnected = 0;
    for (s, t) in sinks.iter().zip(transports) {
        let r = s.0.lock().unwrap();
        assert_eq!(r.seqs(), expected, "{t:?}: every tick once, in order");
        assert!(
            r.ticks.iter().all(|(_, o)| *o == SeqOutcome::InOrder),
            "{t:?}"
        );
        assert_eq!(r.gaps.len(), 0, "{t:?}");
        reconnected += (r.reconnects > 0) as usize;
    }
    // Every stream noticed; a poll between requests may have had nothing to lose.
    assert!(reconnected >= 4, "{reconnected} clients reconnected");
    drop(proxy);
    srv.shutdown().await;
}

#[tokio::test]
async fn reset_mid_stream_resumes_without_loss() {
    survives(Fault::Reset).await;
}

#[tokio::test]
async fn cut_response_resumes_without_loss() {
    survives(Fault::Cut).await;
}

#[tokio::test]
async fn stall_delays_but_loses_nothing() {
    let srv = spawn_server(Config {
        rate: 0.0,
        symbols: 5,
        ..Config::default()
    })
    .await;
    let base = srv.url().trim_end_matches('/').to_string();
    let proxy = ChaosProxy::start(
        base.trim_start_matches("http://").parse().unwrap(),
        ChaosSpec::default(),
        1,
        1,
    )
    .unwrap();
    let mut cfg = ClientConfig::new(proxy.url().parse().unwrap(), Transport::Sse);
    cfg.since = Some(1);
    let sink = RecSink::default();
    let cancel = CancellationToken::new();
    let task = spawn_client(cfg, &sink, &cancel);
    srv.publish(5);
    sink.wait_ticks_within(5, WAIT, "before").await;
    assert_eq!(
        proxy.inject_all(Fault::Stall(Duration::from_millis(400))),
        1
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    srv.publish(5);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.count(), 5, "nothing passes a stalled connection");
    sink.wait_ticks_within(10, WAIT, "after the stall").await;
    cancel.cancel();
    task.await.unwrap();
    assert_eq!(proxy.counts().stalls, 1);
    assert!(sink
        .0
        .lock()
        .unwrap()
        .ticks
        .iter()
        .all(|(_, o)| *o == SeqOutcome::InOrder));
    drop(proxy);
    srv.shutdown().await;
}

/// A whole short run through the proxy with aggressive resets: no loss, everyone receiving, and
/// the faults in `extra`.
#[test]
fn short_run_under_resets_loses_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let srv = rt
        .block_on(tickbench_server::spawn(
            Config {
                rate: 50.0,
                seed: 3,
                symbols: 20,
                ..Config::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = RunOpts {
        target: Some(srv.url()),
        transports: vec![Transport::Sse, Transport::Longpoll, Transport::Poll],
        clients: 20,
        duration: Duration::from_secs(3),
        warmup: Duration::from_millis(500),
        ramp: Duration::from_millis(500),
        poll_interval: Duration::from_millis(200),
        longpoll_timeout: Duration::from_secs(5),
        watch: Watch::Count(5),
        workers: 2,
        label: "chaos".into(),
        out: out.path().to_path_buf(),
        no_tui: true,
        chaos: Some("reset=20%".parse().unwrap()),
        ..RunOpts::default()
    };
    let (summary, dir) = run_with_progress(opts, None, CancellationToken::new()).unwrap();
    assert!(summary.complete);
    assert_eq!(summary.config["chaos"], "reset=20%");
    let mut resets = 0.0;
    for t in &summary.transports {
        assert_eq!(t.loss(), 0, "{t:?}");
        assert_eq!(t.extra["loss_outside_window"], 0.0, "{t:?}");
        assert!(t.delivered > 0, "{t:?}");
        assert_eq!(t.clients_receiving, 20, "{t:?}");
        // Still receiving at the end, not only once.
        assert_eq!(t.extra["clients_active_last_5s"], 20.0, "{t:?}");
        assert!(t.extra.contains_key("reconnects_per_s"), "{t:?}");
        assert!(t.extra["chaos_connections"] >= 0.0);
        resets += t.extra["chaos_resets"];
    }
    // 20 % of ~20 live connections per second over 3 × 3 s: some resets must have landed.
    assert!(resets >= 3.0, "{resets} resets");
    // Streams and long-polls hold their connection: a reset shows up as a reconnect.
    assert!(
        summary.transports[0].reconnects > 0,
        "{:?}",
        summary.transports[0]
    );
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("## Fault injection"), "{report}");
    rt.block_on(srv.shutdown());
}

/// The built `tickbench` binary, for the embedded-server restart test.
fn tickbench_bin() -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/tickbench");
    assert!(
        p.is_file(),
        "{} missing: run `cargo build --bin tickbench` first",
        p.display()
    );
    p
}

/// `restart=`: the embedded server is stopped (SIGTERM) and started again on the same port with
/// the same seed and `--epoch-us` during the measured windows; it continues the same stream, so
/// every client resumes by cursor with no gap and no duplicate, and is receiving at the end.
#[test]
#[ignore = "needs the tickbench binary: cargo build --bin tickbench"]
fn restarts_of_the_embedded_server_lose_nothing() {
    let out = tempfile::tempdir().unwrap();
    let opts = RunOpts {
        server_bin: Some(tickbench_bin()),
        transports: vec![
            Transport::Sse,
            Transport::Longpoll,
            Transport::Poll,
            Transport::Stream,
        ],
        clients: 20,
        duration: Duration::from_secs(4),
        warmup: Duration::from_millis(500),
        ramp: Duration::from_millis(500),
        poll_interval: Duration::from_millis(200),
        longpoll_timeout: Duration::from_secs(5),
        rate: 50.0,
        symbols: 20,
        watch: Watch::Count(5),
        workers: 2,
        label: "restart".into(),
        out: out.path().to_path_buf(),
        no_tui: true,
        chaos: Some("restart=2s,reset=5%".parse().unwrap()),
        ..RunOpts::default()
    };
    let (summary, _) = run_with_progress(opts, None, CancellationToken::new()).unwrap();
    assert!(summary.complete);
    assert!(summary.config["server_epoch_us"].as_u64().unwrap() > 0);
    let mut restarts = 0.0;
    for t in &summary.transports {
        eprintln!(
            "{}: delivered {} loss {} notices {} reconnects {} restarts {} active {} errors {:?}",
            t.name,
            t.delivered,
            t.loss(),
            t.gap_notices,
            t.reconnects,
            t.extra["chaos_restarts"],
            t.extra["clients_active_last_s"],
            t.errors
        );
        assert_eq!(t.loss(), 0, "{t:?}");
        assert_eq!(t.extra["loss_outside_window"], 0.0, "{t:?}");
        assert_eq!(t.gap_notices, 0, "{t:?}");
        assert_eq!(t.clients_receiving, 20, "{t:?}");
        restarts += t.extra["chaos_restarts"];
    }
    assert!(restarts >= 4.0, "{restarts} restarts in 4 × 4 s windows");
}

/// A server replaced by one with a different epoch is a different stream (its seqs and sseqs
/// start again at 1): the clients notice by `X-Tickbench-Epoch`, drop their cursor and baselines
/// and follow the new stream from its start: no false loss, nothing of the new stream missed.
#[tokio::test]
async fn a_new_epoch_is_a_new_stream_not_loss() {
    let config = |epoch_us| Config {
        rate: 0.0,
        symbols: 10,
        epoch_us: Some(epoch_us),
        ..Config::default()
    };
    let now = tickbench_wire::now_micros();
    let a = spawn_server(config(now - 1_000_000)).await;
    let base = a.url().trim_end_matches('/').to_string();
    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let transports = [
        Transport::Sse,
        Transport::Stream,
        Transport::Poll,
        Transport::Longpoll,
    ];
    let cancel = CancellationToken::new();
    let (sinks, tasks) = start_clients(&base, &transports, &cancel, |cfg| {
        cfg.poll_interval = Duration::from_millis(30);
        cfg.longpoll_timeout = Duration::from_secs(5);
    });
    a.publish(30);
    wait_all(&sinks, &transports, 30).await;
    a.shutdown().await;
    // Same port, new epoch; more ticks than the clients' cursors, so no 400 gives it away.
    let b = tickbench_server::spawn(config(now), addr).await.unwrap();
    b.publish(50);
    wait_all(&sinks, &transports, 80).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    for task in tasks {
        task.await.unwrap();
    }
    for (s, t) in sinks.iter().zip(transports) {
        let r = s.0.lock().unwrap();
        let want: Vec<u64> = (1..=30).chain(1..=50).collect();
        assert_eq!(r.seqs(), want, "{t:?}");
        assert!(
            r.ticks.iter().all(|(_, o)| *o == SeqOutcome::InOrder),
            "{t:?}: {:?}",
            r.ticks
        );
    }
    b.shutdown().await;
}
