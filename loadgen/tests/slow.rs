//! Slow consumers (`--slow-clients`): a client that reads its stream slower than ticks arrive,
//! over a small receive window, fills the server's socket buffer, falls out of the journal, and
//! gets an explicit gap notice: its loss is declared, never silent. And in a whole run the slow clients' figures are kept apart.

use std::time::{Duration, Instant};

use tickbench_loadgen::clients::{ClientConfig, ErrorKind, ReadRate};
use tickbench_loadgen::{run_with_progress, RunOpts, Watch};
use tickbench_server::Config;
use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

mod common;
use common::{spawn_client, spawn_server, RecSink};

/// Starts a slow SSE client of `base` from seq 1, reading at `rate`, recording into a new sink.
fn start_slow_sse(
    base: &str,
    rate: ReadRate,
) -> (RecSink, CancellationToken, tokio::task::JoinHandle<()>) {
    let mut cfg = ClientConfig::new(base.parse().unwrap(), Transport::Sse);
    cfg.since = Some(1);
    cfg.read_rate = Some(rate);
    let sink = RecSink::default();
    let cancel = CancellationToken::new();
    let task = spawn_client(cfg, &sink, &cancel);
    (sink, cancel, task)
}

async fn journal_head(base: &str) -> u64 {
    let h: serde_json::Value = reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    h["next"].as_u64().unwrap()
}

/// A slow SSE reader falls so far behind that the server drops ticks for it; when it catches up
/// it finds an explicit gap notice where the loss is, and no silent gap. (The test lets it read at
/// full speed once the damage is done, so what it reads then is exactly what the server queued
/// for it, and every seq can be accounted for.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_sse_client_gets_gap_notices_not_silent_gaps() {
    let srv = spawn_server(Config {
        rate: 0.0,
        symbols: 10,
        retain: 1_000,
        ..Config::default()
    })
    .await;
    let base = srv.url().trim_end_matches('/').to_string();
    // 20 kB/s: about 130 events a second.
    let rate = ReadRate::new(20_000);
    let (sink, cancel, task) = start_slow_sse(&base, rate.clone());
    // ~10 MB of events in bursts far below the retained window: a reader at full speed would
    // keep up; this one reads 20 kB/s, so the socket buffers fill and it drops out.
    for _ in 0..300 {
        srv.publish(200);
        tokio::task::yield_now().await;
    }
    let head = journal_head(&base).await;
    rate.set(0);
    let t0 = Instant::now();
    loop {
        let (last, errors) = {
            let r = sink.0.lock().unwrap();
            (r.last_seq(), r.errors.clone())
        };
        if last + 1 >= head {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "slow reader never caught up: at {last} of {head}, {errors:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cancel.cancel();
    task.await.unwrap();
    {
        let r = sink.0.lock().unwrap();
        assert!(!r.gaps.is_empty(), "the loss was declared");
        assert_eq!(r.silent_gaps(), 0, "{:?}", r.gaps);
        assert_eq!(r.dups(), 0);
        // Every seq is accounted for: delivered or inside a declared gap.
        let declared: u64 = r.gaps.iter().map(|g| g.to - g.from + 1).sum();
        assert_eq!(r.ticks.len() as u64 + declared, head - 1, "{:?}", r.gaps);
    }
    srv.shutdown().await;
}

/// A slow reader that never speeds up still learns of its loss, promptly: its small receive
/// window (a slow link, `clients::slowlink`) keeps the backlog at the server, whose fixed send
/// buffer and `--max-behind` reset it; it resumes from its cursor, which the short journal has
/// evicted, and the new stream opens with the gap notice. With the kernel's default receive
/// buffer it would first read ~100 KiB of stale ticks at this pace, most of a minute.
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
    // ~4 kB/s: about 25 events a second, against ~10,000 published.
    let (sink, cancel, task) = start_slow_sse(&base, ReadRate::new(4_000));
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

/// A short run with half the SSE clients slow: their latency is reported apart (and is much
/// worse), the others' histogram is theirs alone, and nobody loses a tick silently.
#[test]
fn slow_clients_are_reported_apart_in_a_run() {
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
    let out = tempfile::tempdir().unwrap();
    let opts = RunOpts {
        target: Some(srv.url()),
        transports: vec![Transport::Sse],
        clients: 20,
        duration: Duration::from_secs(2),
        warmup: Duration::from_secs(1),
        ramp: Duration::from_millis(500),
        watch: Watch::Count(5),
        workers: 2,
        label: "slow".into(),
        out: out.path().to_path_buf(),
        no_tui: true,
        slow_clients: 0.5,
        slow_factor: 20.0,
        ..RunOpts::default()
    };
    let (summary, dir) = run_with_progress(opts, None, CancellationToken::new()).unwrap();
    let t = &summary.transports[0];
    assert_eq!(t.loss(), 0, "{t:?}");
    assert_eq!(t.extra["slow_clients"], 10.0);
    assert_eq!(t.extra["normal_gap_notices"], 0.0);
    let slow = t.extra["slow_delivered"];
    assert!(slow > 0.0 && slow < t.delivered as f64, "{t:?}");
    // Slow readers fall further behind every second; the others' figures do not include them.
    assert!(
        t.extra["slow_latency_us_p99"] > t.latency_us.p99 as f64,
        "{t:?}"
    );
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("## Slow consumers"), "{report}");
    rt.block_on(srv.shutdown());
}
