//! The simulated clients against the real server over loopback: every transport delivers every
//! published tick exactly once and in order, a watchlist filters, and a cut connection resumes
//! from the cursor without loss. Ticks are driven by `publish` (rate 0), never by the clock.
//!
//! Over 500 lines on purpose: one scenario function per behaviour, instantiated for every
//! transport by the `every_transport!` table, so a new transport is one line here; splitting the
//! scenarios from their table would make that line harder to find.

use std::collections::HashSet;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tickbench_loadgen::clients::{
    http_client, run_client, ClientConfig, ErrorKind, SeqOutcome, Sink,
};
use tickbench_wire::transport::Kind;
use tickbench_wire::{Gap, Symbols, Tick, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

mod common;
use common::{journal, spawn_client, spawn_server, Rec, RecSink};

async fn server() -> tickbench_server::ServerHandle {
    spawn_server(tickbench_server::Config {
        rate: 0.0,
        symbols: 20,
        ..Default::default()
    })
    .await
}

fn config(base: &str, transport: Transport) -> ClientConfig {
    let mut cfg = ClientConfig::new(base.parse().unwrap(), transport);
    cfg.poll_interval = Duration::from_millis(30);
    cfg.action_rate = 40.0;
    cfg.longpoll_timeout = Duration::from_secs(5);
    cfg.stream_timeout = Duration::from_secs(20);
    cfg.seed = 7;
    cfg
}

async fn watchlist(base: &str) -> Arc<[String]> {
    let s: Symbols = reqwest::get(format!("{base}/symbols"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    [1, 4, 8]
        .iter()
        .map(|&i| s.symbols[i].sym.clone())
        .collect()
}

fn assert_exactly_once_in_order(rec: &Rec, expected: &[Tick]) {
    let got: Vec<u64> = rec.ticks.iter().map(|(t, _)| t.seq).collect();
    let want: Vec<u64> = expected.iter().map(|t| t.seq).collect();
    assert_eq!(got, want);
    for (t, o) in &rec.ticks {
        assert_eq!(*o, SeqOutcome::InOrder, "tick {t:?}");
    }
}

/// Publishes `bursts` bursts of `n` ticks and waits until `sink` has all that match.
async fn publish_and_wait(
    srv: &tickbench_server::ServerHandle,
    base: &str,
    sink: &RecSink,
    bursts: usize,
    n: usize,
    symbols: Option<&[String]>,
) -> Vec<Tick> {
    for _ in 0..bursts {
        srv.publish(n);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let expected: Vec<Tick> = journal(base)
        .await
        .into_iter()
        .filter(|t| symbols.is_none_or(|s| s.contains(&t.sym)))
        .collect();
    sink.wait_ticks(expected.len()).await;
    // Nothing extra straggles in.
    tokio::time::sleep(Duration::from_millis(100)).await;
    expected
}

async fn delivers_everything(transport: Transport, with_watchlist: bool) {
    let srv = server().await;
    let base = srv.url().trim_end_matches('/').to_string();
    let symbols = if with_watchlist {
        Some(watchlist(&base).await)
    } else {
        None
    };
    let mut cfg = config(&base, transport);
    cfg.symbols = symbols.clone();
    cfg.since = Some(1);
    let sink = RecSink::checked();
    let cancel = CancellationToken::new();
    let task = spawn_client(cfg, &sink, &cancel);
    let expected = publish_and_wait(&srv, &base, &sink, 4, 60, symbols.as_deref()).await;
    assert!(!expected.is_empty());
    cancel.cancel();
    task.await.unwrap();
    let rec = sink.take();
    assert_exactly_once_in_order(&rec, &expected);
    if let Some(s) = &symbols {
        assert!(rec.ticks.iter().all(|(t, _)| s.contains(&t.sym)));
        assert!(expected.len() < 240, "the watchlist filtered nothing");
    }
    assert!(rec.errors.is_empty(), "{:?}", rec.errors);
    assert!(rec.gaps.is_empty());
    assert!(rec.requests >= 1 && rec.bytes > 0);
    assert!(!rec.up, "cancel reports connected(false)");
    match transport.kind() {
        Kind::Polled | Kind::Piggyback | Kind::Held => assert!(rec.answers >= 1),
        Kind::Stream | Kind::Duplex => {}
    }
    if transport.schedule_bound() {
        assert!(
            rec.lags >= 1,
            "schedule lag is reported per scheduled request"
        );
    }
    srv.shutdown().await;
}

/// A cursor older than the journal's window: the server declares the loss, the client reports
/// the notice and then gets every retained tick in order, none counted as a silent gap.
async fn declared_gap(transport: Transport) {
    let cfg = tickbench_server::Config {
        rate: 0.0,
        symbols: 20,
        retain: 50,
        ..Default::default()
    };
    let srv = spawn_server(cfg).await;
    let base = srv.url();
    srv.publish(200);
    let mut cfg = config(&base, transport);
    cfg.since = Some(1);
    let sink = RecSink::checked();
    let cancel = CancellationToken::new();
    let task = spawn_client(cfg, &sink, &cancel);
    sink.wait_ticks(50).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    task.await.unwrap();
    let rec = sink.take();
    assert_eq!(rec.gaps, [Gap { from: 1, to: 150 }]);
    assert_exactly_once_in_order(&rec, &journal(&base).await);
    assert_eq!(rec.ticks[0].0.seq, 151);
    srv.shutdown().await;
}

macro_rules! every_transport {
    ($($name:ident: $t:expr,)*) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn every_tick_once_in_order() {
                delivers_everything($t, false).await;
            }

            #[tokio::test]
            async fn watchlist_only() {
                delivers_everything($t, true).await;
            }

            #[tokio::test]
            async fn declared_gap_is_a_notice_not_loss() {
                declared_gap($t).await;
            }
        }
    )*};
}

every_transport! {
    poll: Transport::Poll,
    jsonp: Transport::Jsonp,
    piggyback: Transport::Piggyback,
    longpoll: Transport::Longpoll,
    stream: Transport::Stream,
    sse: Transport::Sse,
    multipart: Transport::Multipart,
    iframe: Transport::Iframe,
    ws: Transport::Ws,
}

/// "From now": a client that starts without a cursor gets every tick published after it is
/// connected, none from before.
#[tokio::test]
async fn from_now_skips_history_and_loses_nothing_after() {
    let srv = server().await;
    let base = srv.url().trim_end_matches('/').to_string();
    srv.publish(30);
    for transport in [Transport::Stream, Transport::Sse, Transport::Poll] {
        let sink = RecSink::checked();
        let cancel = CancellationToken::new();
        let task = spawn_client(config(&base, transport), &sink, &cancel);
        sink.wait_connected().await;
        let before = journal(&base).await.len();
        srv.publish(25);
        let expected: Vec<Tick> = journal(&base).await.split_off(before);
        sink.wait_ticks(expected.len()).await;
        cancel.cancel();
        task.await.unwrap();
        assert_exactly_once_in_order(&sink.0.lock().unwrap(), &expected);
    }
    srv.shutdown().await;
}

/// A loopback TCP proxy whose live connections can be cut (the listener stays up).
struct Proxy {
    addr: SocketAddr,
    cut: Arc<Mutex<CancellationToken>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(Mutex::new(CancellationToken::new()));
        let cut2 = cut.clone();
        tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                let token = cut2.lock().unwrap().clone();
                tokio::spawn(async move {
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = token.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut down, &mut up) => {}
                    }
                });
            }
        });
        Proxy { addr, cut }
    }

    /// Drops every connection open now.
    fn cut(&self) {
        let mut t = self.cut.lock().unwrap();
        t.cancel();
        *t = CancellationToken::new();
    }
}

async fn survives_a_cut(transport: Transport) {
    let srv = server().await;
    let base = srv.url().trim_end_matches('/').to_string();
    let upstream: SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .expect("server url is http://ip:port");
    let proxy = Proxy::start(upstream).await;
    let via = format!("http://{}", proxy.addr);
    let mut cfg = config(&via, transport);
    cfg.since = Some(1);
    let sink = RecSink::checked();
    let cancel = CancellationToken::new();
    let task = spawn_client(cfg, &sink, &cancel);
    srv.publish(40);
    sink.wait_ticks(40).await;
    proxy.cut();
    // Published while the client is cut off or reconnecting.
    srv.publish(40);
    tokio::time::sleep(Duration::from_millis(50)).await;
    srv.publish(40);
    sink.wait_ticks(120).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    task.await.unwrap();
    let expected = journal(&base).await;
    let rec = sink.take();
    assert_exactly_once_in_order(&rec, &expected);
    assert!(rec.reconnects >= 1, "the cut was noticed: {rec:?}");
    assert!(!rec.errors.is_empty());
    srv.shutdown().await;
}

mod resume_after_cut {
    use super::*;

    #[tokio::test]
    async fn stream() {
        survives_a_cut(Transport::Stream).await;
    }
    #[tokio::test]
    async fn sse() {
        survives_a_cut(Transport::Sse).await;
    }
    #[tokio::test]
    async fn multipart() {
        survives_a_cut(Transport::Multipart).await;
    }
    #[tokio::test]
    async fn iframe() {
        survives_a_cut(Transport::Iframe).await;
    }
    #[tokio::test]
    async fn longpoll() {
        survives_a_cut(Transport::Longpoll).await;
    }
    #[tokio::test]
    async fn ws() {
        survives_a_cut(Transport::Ws).await;
    }
}

/// A server that sends a crafted NDJSON stream once, then holds the connection open.
async fn crafted_stream_server(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut served = false;
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let mut head = Vec::new();
            write!(
                head,
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nx-tickbench-next: 1\r\ntransfer-encoding: chunked\r\n\r\n"
            )
            .unwrap();
            let _ = s.write_all(&head).await;
            if !served {
                served = true;
                // One chunk per line, each at its own pace.
                for line in body.lines() {
                    let line = format!("{line}\n");
                    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
                    let _ = s.write_all(chunk.as_bytes()).await;
                }
            }
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(30)).await;
                drop(s);
            });
        }
    });
    format!("http://{addr}")
}

fn line(seq: u64, sseq: u64, sym: &str) -> String {
    format!(
        r#"{{"seq":{seq},"sseq":{sseq},"sym":"{sym}","bid":1.0,"ask":1.01,"last":1.0,"size":1,"ts":1}}"#
    )
}

/// Loss and duplication a server could commit are caught: a dropped tick is a gap, a repeat a
/// duplicate, and a declared gap is reported as a notice, not also as a silent gap.
#[tokio::test]
async fn crafted_stream_gap_duplicate_and_declared_gap() {
    let body = [
        line(1, 1, "A"),
        line(2, 1, "B"),
        line(3, 2, "A"),
        // A sseq 3 dropped.
        line(5, 4, "A"),
        line(5, 4, "A"),
        r#"{"heartbeat":5}"#.to_string(),
        r#"{"gap":{"from":6,"to":20}}"#.to_string(),
        line(21, 9, "A"),
        line(22, 5, "B"),
        line(23, 10, "A"),
    ]
    .join("\n");
    let base = crafted_stream_server(body).await;
    let sink = RecSink::checked();
    let cancel = CancellationToken::new();
    let task = spawn_client(config(&base, Transport::Stream), &sink, &cancel);
    sink.wait_ticks(8).await;
    cancel.cancel();
    task.await.unwrap();
    let rec = sink.0.lock().unwrap();
    let outcomes: Vec<SeqOutcome> = rec.ticks.iter().map(|(_, o)| *o).collect();
    use SeqOutcome::{Duplicate, InOrder};
    assert_eq!(
        outcomes,
        [
            InOrder,
            InOrder,
            InOrder,
            SeqOutcome::Gap(1),
            Duplicate,
            InOrder,
            InOrder,
            InOrder
        ]
    );
    assert_eq!(rec.gaps, [Gap { from: 6, to: 20 }]);
}

/// The client future is `Send` with a `Send` sink (multi-thread runtimes, the TUI) and runs
/// on a current-thread runtime with an `Rc` sink (the load generator's workers).
#[test]
fn send_and_local_sinks() {
    fn assert_send<T: Send>(_: &T) {}
    let cfg = ClientConfig::new("http://127.0.0.1:9/".parse().unwrap(), Transport::Sse);
    let fut = run_client(
        cfg.clone(),
        http_client(None),
        RecSink::checked(),
        CancellationToken::new(),
    );
    assert_send(&fut);
    drop(fut);

    // Send but not Sync is enough.
    struct CellSink(std::cell::Cell<u64>);
    impl Sink for CellSink {
        fn request(&self) {
            self.0.set(self.0.get() + 1);
        }
        fn answer(&self, _: usize) {}
        fn bytes(&self, _: u64) {}
        fn tick(&self, _: &Tick, _: u64, _: SeqOutcome) {}
        fn gap_notice(&self, _: Gap) {}
        fn error(&self, _: ErrorKind) {}
        fn reconnect(&self) {}
        fn schedule_lag(&self, _: u64) {}
        fn connected(&self, _: bool) {}
    }
    for t in Transport::ALL {
        let mut cfg = cfg.clone();
        cfg.transport = t;
        let fut = run_client(
            cfg,
            http_client(None),
            CellSink(Default::default()),
            CancellationToken::new(),
        );
        assert_send(&fut);
    }

    struct RcSink(std::rc::Rc<std::cell::Cell<u64>>);
    impl Sink for RcSink {
        fn request(&self) {
            self.0.set(self.0.get() + 1);
        }
        fn answer(&self, _: usize) {}
        fn bytes(&self, _: u64) {}
        fn tick(&self, _: &Tick, _: u64, _: SeqOutcome) {}
        fn gap_notice(&self, _: Gap) {}
        fn error(&self, _: ErrorKind) {}
        fn reconnect(&self) {}
        fn schedule_lag(&self, _: u64) {}
        fn connected(&self, _: bool) {}
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    rt.block_on(async {
        // Nothing listens on port 9: the client keeps failing to connect and backing off.
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            c2.cancel();
        });
        run_client(cfg, http_client(None), RcSink(count.clone()), cancel).await;
    });
    assert!(count.get() >= 1);
}

/// A refused connection is counted as a connect error and retried with backoff, not hammered.
#[tokio::test]
async fn refused_connections_back_off() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let sink = RecSink::checked();
    let cancel = CancellationToken::new();
    let task = spawn_client(
        config(&format!("http://{addr}"), Transport::Longpoll),
        &sink,
        &cancel,
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cancel.cancel();
    task.await.unwrap();
    let rec = sink.0.lock().unwrap();
    let kinds: HashSet<ErrorKind> = rec.errors.iter().copied().collect();
    assert_eq!(kinds, HashSet::from([ErrorKind::Connect]));
    // 100 ms, 200 ms, 400 ms, 800 ms windows: a handful of attempts, not hundreds.
    assert!(rec.requests >= 2 && rec.requests < 40, "{}", rec.requests);
}

/// Per-client memory: the client's state machine stays small (the goal is ≤ 16 KB RSS per idle
/// long-poll client, and the connection's own buffers take most of that).
#[test]
fn client_future_is_small() {
    for t in Transport::ALL {
        let cfg = ClientConfig::new("http://127.0.0.1:9/".parse().unwrap(), t);
        let fut = run_client(
            cfg,
            http_client(None),
            RecSink::checked(),
            CancellationToken::new(),
        );
        let size = std::mem::size_of_val(&fut);
        assert!(size < 4096, "{t}: {size} bytes");
    }
}

async fn slow_poll_server(delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                // One request per read is enough for GETs this small.
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    tokio::time::sleep(delay).await;
                    let body = r#"{"next":1,"ticks":[],"gap":null}"#;
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if s.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A slow answer does not stretch the poll interval silently: the next poll fires at once and
/// the lateness is reported as schedule lag (no coordinated omission).
#[tokio::test]
async fn slow_answers_show_up_as_schedule_lag() {
    let base = slow_poll_server(Duration::from_millis(150)).await;
    let mut cfg = config(&base, Transport::Poll);
    cfg.poll_interval = Duration::from_millis(50);
    let sink = RecSink::checked();
    let cancel = CancellationToken::new();
    let task = spawn_client(cfg, &sink, &cancel);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    cancel.cancel();
    task.await.unwrap();
    let rec = sink.take();
    assert!(rec.errors.is_empty(), "{:?}", rec.errors);
    // Back to back at the answer time (~6 in 1 s), never waiting an interval after a late answer.
    assert!(rec.requests >= 4, "{}", rec.requests);
    assert_eq!(rec.empty, rec.answers);
    // The k-th poll was due at k·50 ms but sent at about k·150 ms.
    assert!(rec.lag_max_us >= 200_000, "{}", rec.lag_max_us);
}

/// Over the server's connection cap a client is told 503 + `Retry-After: 1` and waits that long.
#[tokio::test]
async fn honours_retry_after_on_503() {
    let cfg = tickbench_server::Config {
        rate: 0.0,
        symbols: 20,
        max_conns: 1,
        ..Default::default()
    };
    let srv = spawn_server(cfg).await;
    let base = srv.url();
    let holder = RecSink::checked();
    let cancel = CancellationToken::new();
    let h = spawn_client(config(&base, Transport::Stream), &holder, &cancel);
    holder.wait_connected().await;
    let sink = RecSink::checked();
    let t = spawn_client(config(&base, Transport::Stream), &sink, &cancel);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cancel.cancel();
    h.await.unwrap();
    t.await.unwrap();
    let rec = sink.take();
    assert!(
        rec.errors.contains(&ErrorKind::Status(503)),
        "{:?}",
        rec.errors
    );
    // At t=0 and t>=1 s; without Retry-After the backoff would have sent several by now.
    assert!(rec.requests <= 2, "{} requests", rec.requests);
    srv.shutdown().await;
}

/// A server restart (bye, refused connects, then a fresh journal whose seqs start again at 1):
/// the client notices its cursor is from the old server, starts over from the new server's
/// oldest tick, and re-baselines its `sseq`s, so it neither loses nor mis-flags new ticks.
async fn resumes_across_a_server_restart(transport: Transport) {
    let srv = server().await;
    let addr = srv.addr();
    let base = srv.url();
    let mut cfg = config(&base, transport);
    cfg.since = Some(1);
    // A long-poll client counts as connected at its first answer: keep the empty hold short.
    cfg.longpoll_timeout = Duration::from_secs(1);
    let sink = RecSink::checked();
    let cancel = CancellationToken::new();
    let task = spawn_client(cfg, &sink, &cancel);
    srv.publish(20);
    sink.wait_ticks(20).await;
    srv.shutdown().await;
    // The bye may still be in flight when shutdown returns.
    sink.wait_up(false).await;
    let before = sink.take();
    let seqs: Vec<u64> = before.ticks.iter().map(|(t, _)| t.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let cfg = tickbench_server::Config {
        rate: 0.0,
        symbols: 20,
        ..Default::default()
    };
    let srv = tickbench_server::spawn(cfg, addr).await.unwrap();
    sink.wait_connected().await;
    srv.publish(30);
    sink.wait_ticks(30).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    task.await.unwrap();
    let rec = sink.take();
    assert_exactly_once_in_order(&rec, &journal(&base).await);
    assert!(rec.reconnects >= 1);
    assert!(
        rec.errors.contains(&ErrorKind::Status(400)),
        "{:?}",
        rec.errors
    );
    srv.shutdown().await;
}

mod restart {
    use super::*;

    #[tokio::test]
    async fn poll() {
        resumes_across_a_server_restart(Transport::Poll).await;
    }
    #[tokio::test]
    async fn longpoll() {
        resumes_across_a_server_restart(Transport::Longpoll).await;
    }
    #[tokio::test]
    async fn stream() {
        resumes_across_a_server_restart(Transport::Stream).await;
    }
    #[tokio::test]
    async fn sse() {
        resumes_across_a_server_restart(Transport::Sse).await;
    }
    #[tokio::test]
    async fn multipart() {
        resumes_across_a_server_restart(Transport::Multipart).await;
    }
    #[tokio::test]
    async fn iframe() {
        resumes_across_a_server_restart(Transport::Iframe).await;
    }
    #[tokio::test]
    async fn ws() {
        resumes_across_a_server_restart(Transport::Ws).await;
    }
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Measures the resident memory of idle long-poll clients (run by hand: `--ignored --nocapture`).
/// The server here reads the request and holds it forever, so it costs about as much per
/// connection as a bare socket; that cost is measured first with bare sockets and subtracted.
#[tokio::test(flavor = "current_thread")]
#[ignore]
async fn idle_longpoll_client_memory() {
    const N: usize = 1000;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                }
            });
        }
    });
    let settle = || tokio::time::sleep(Duration::from_millis(500));
    settle().await;
    let r0 = rss_bytes();
    let mut raw = Vec::new();
    for _ in 0..N {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        raw.push(s);
    }
    settle().await;
    let r1 = rss_bytes();
    drop(raw);
    settle().await;
    let r2 = rss_bytes();
    let cancel = CancellationToken::new();
    let sinks: Vec<RecSink> = (0..N).map(|_| RecSink::checked()).collect();
    let syms: Arc<[String]> = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (i, sink) in sinks.iter().enumerate() {
        let mut cfg = config(&format!("http://{addr}"), Transport::Longpoll);
        cfg.symbols = Some(syms.clone());
        cfg.longpoll_timeout = Duration::from_secs(60);
        cfg.seed = i as u64;
        spawn_client(cfg, sink, &cancel);
    }
    settle().await;
    settle().await;
    let r3 = rss_bytes();
    let bare = (r1 - r0) as f64 / N as f64;
    let clients = (r3 - r2) as f64 / N as f64;
    eprintln!(
        "bare socket pair: {bare:.0} B/conn; long-poll client + server side: {clients:.0} B/conn; \
         client alone ≈ {:.0} B",
        clients - bare
    );
    cancel.cancel();
}
