//! `--chaos` over real sockets: the fault proxy resets and cuts live connections and every client
//! resumes from its cursor with nothing lost, duplicated or reordered; a short whole run through
//! the proxy ends with no loss, every client receiving, and the faults in the summary.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tickbench_loadgen::chaos::{ChaosProxy, ChaosSpec, Fault};
use tickbench_loadgen::clients::{
    http_client, run_client, ClientConfig, ErrorKind, SeqOutcome, Sink,
};
use tickbench_loadgen::{run_with_progress, RunOpts, Watch};
use tickbench_server::Config;
use tickbench_wire::{Batch, Gap, Tick, Transport};
use tokio_util::sync::CancellationToken;

/// What one client reported.
#[derive(Debug, Default)]
struct Rec {
    ticks: Vec<(u64, SeqOutcome)>,
    gaps: u64,
    errors: Vec<ErrorKind>,
    reconnects: u64,
}

#[derive(Debug, Clone, Default)]
struct RecSink(Arc<Mutex<Rec>>);

impl Sink for RecSink {
    fn request(&self) {}
    fn answer(&self, _: usize) {}
    fn bytes(&self, _: u64) {}
    fn tick(&self, tick: &Tick, _: u64, outcome: SeqOutcome) {
        self.0.lock().unwrap().ticks.push((tick.seq, outcome));
    }
    fn gap_notice(&self, _: Gap) {
        self.0.lock().unwrap().gaps += 1;
    }
    fn error(&self, kind: ErrorKind) {
        self.0.lock().unwrap().errors.push(kind);
    }
    fn reconnect(&self) {
        self.0.lock().unwrap().reconnects += 1;
    }
    fn schedule_lag(&self, _: u64) {}
    fn connected(&self, _: bool) {}
}

impl RecSink {
    fn count(&self) -> usize {
        self.0.lock().unwrap().ticks.len()
    }

    async fn wait_ticks(&self, n: usize, what: &str) {
        let t0 = std::time::Instant::now();
        while self.count() < n {
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "{what}: {} of {n} ticks, errors {:?}",
                self.count(),
                self.0.lock().unwrap().errors
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn journal(base: &str) -> Vec<u64> {
    let b: Batch = reqwest::get(format!("{base}/poll?since=0&limit=100000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    b.ticks.iter().map(|t| t.seq).collect()
}

/// A fault, injected by hand into every live connection through the proxy mid-stream, is
/// survived by every transport: all ticks exactly once, in order, and the fault was applied.
async fn survives(fault: Fault) {
    let srv = tickbench_server::spawn(
        Config {
            rate: 0.0,
            symbols: 20,
            ..Config::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
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
    let mut sinks = Vec::new();
    let mut tasks = Vec::new();
    for t in transports {
        let mut cfg = ClientConfig::new(proxy.url().parse().unwrap(), t);
        cfg.since = Some(1);
        cfg.poll_interval = Duration::from_millis(30);
        cfg.longpoll_timeout = Duration::from_secs(5);
        cfg.stream_timeout = Duration::from_secs(20);
        let sink = RecSink::default();
        sinks.push(sink.clone());
        tasks.push(tokio::spawn(run_client(
            cfg,
            http_client(None),
            sink,
            cancel.clone(),
        )));
    }
    srv.publish(30);
    for (s, t) in sinks.iter().zip(transports) {
        s.wait_ticks(30, t.name()).await;
    }
    let hit = proxy.inject_all(fault);
    assert!(hit >= transports.len(), "{hit} connections faulted");
    // A cut needs server bytes to cut: publish while the fault is pending, and after it.
    for _ in 0..4 {
        srv.publish(15);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let expected = journal(&base).await;
    for (s, t) in sinks.iter().zip(transports) {
        s.wait_ticks(expected.len(), t.name()).await;
    }
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
        let got: Vec<u64> = r.ticks.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(got, expected, "{t:?}: every tick once, in order");
        assert!(
            r.ticks.iter().all(|(_, o)| *o == SeqOutcome::InOrder),
            "{t:?}"
        );
        assert_eq!(r.gaps, 0, "{t:?}");
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
    let srv = tickbench_server::spawn(
        Config {
            rate: 0.0,
            symbols: 5,
            ..Config::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
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
    let task = tokio::spawn(run_client(
        cfg,
        http_client(None),
        sink.clone(),
        cancel.clone(),
    ));
    srv.publish(5);
    sink.wait_ticks(5, "before").await;
    assert_eq!(
        proxy.inject_all(Fault::Stall(Duration::from_millis(400))),
        1
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    srv.publish(5);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.count(), 5, "nothing passes a stalled connection");
    sink.wait_ticks(10, "after the stall").await;
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
    let a = tickbench_server::spawn(config(now - 1_000_000), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = a.url().trim_end_matches('/').to_string();
    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let transports = [
        Transport::Sse,
        Transport::Stream,
        Transport::Poll,
        Transport::Longpoll,
    ];
    let cancel = CancellationToken::new();
    let mut sinks = Vec::new();
    let mut tasks = Vec::new();
    for t in transports {
        let mut cfg = ClientConfig::new(base.parse().unwrap(), t);
        cfg.since = Some(1);
        cfg.poll_interval = Duration::from_millis(30);
        cfg.longpoll_timeout = Duration::from_secs(5);
        let sink = RecSink::default();
        sinks.push(sink.clone());
        tasks.push(tokio::spawn(run_client(
            cfg,
            http_client(None),
            sink,
            cancel.clone(),
        )));
    }
    a.publish(30);
    for (s, t) in sinks.iter().zip(transports) {
        s.wait_ticks(30, t.name()).await;
    }
    a.shutdown().await;
    // Same port, new epoch; more ticks than the clients' cursors, so no 400 gives it away.
    let b = tickbench_server::spawn(config(now), addr).await.unwrap();
    b.publish(50);
    for (s, t) in sinks.iter().zip(transports) {
        s.wait_ticks(80, t.name()).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    for task in tasks {
        task.await.unwrap();
    }
    for (s, t) in sinks.iter().zip(transports) {
        let r = s.0.lock().unwrap();
        let seqs: Vec<u64> = r.ticks.iter().map(|(seq, _)| *seq).collect();
        let want: Vec<u64> = (1..=30).chain(1..=50).collect();
        assert_eq!(seqs, want, "{t:?}");
        assert!(
            r.ticks.iter().all(|(_, o)| *o == SeqOutcome::InOrder),
            "{t:?}: {:?}",
            r.ticks
        );
    }
    b.shutdown().await;
}
