//! Hosts of their own: `cluster up --netns` puts nats-server, the feed and two edges each in its
//! own network namespace on the cluster's bridge; a client in a namespace of its own streams SSE
//! from edge 1, edge 1's link is cut (`cluster partition edge1`), the client moves to edge 2 and
//! resumes by `Last-Event-ID` with nothing lost (every seq once, every symbol's sseq in order),
//! and after `heal` edge 1 catches up from JetStream and the client moves back to it.
//!
//! Needs root and iproute2's `ip`; without them it fails saying so, unless
//! `TICKBENCH_SKIP_NETNS=1` (then it says it skipped).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tickbench_cluster::launch::ready::healthz;
use tickbench_cluster::launch::state::{Phase, Role, State};
use tickbench_cluster::netns::{self, Net};
use tickbench_wire::framing::{Frame, FrameParser as _, SseParser};
use tickbench_wire::Tick;

use crate::launch::{cli, skip_nats, text, DownGuard};

/// How long without a byte counts as a stalled stream (the feed sends 200 ticks/s).
const STALL: Duration = Duration::from_millis(1500);

/// Every tick checked: the global seq +1 each time, each symbol's sseq +1 each time.
#[derive(Debug, Default)]
struct Checker {
    last_seq: u64,
    sseq: HashMap<String, u64>,
    ticks: u64,
}

impl Checker {
    fn check(&mut self, t: &Tick) {
        assert_eq!(t.seq, self.last_seq + 1, "seq gap or duplicate: {t:?}");
        self.last_seq = t.seq;
        let prev = self.sseq.entry(t.sym.clone()).or_insert(0);
        assert_eq!(t.sseq, *prev + 1, "{} sseq out of order: {t:?}", t.sym);
        *prev = t.sseq;
        self.ticks += 1;
    }
}

/// One SSE subscription.
struct Sub {
    resp: reqwest::Response,
    parser: SseParser,
}

impl Sub {
    /// Subscribes to `base` after seq `last` (`Last-Event-ID`), or from seq 1.
    async fn open(http: &reqwest::Client, base: &str, last: u64) -> Sub {
        let mut req = http.get(format!("{base}/sse?since=1"));
        if last > 0 {
            req = req.header("Last-Event-ID", last.to_string());
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{base}: {e}"));
        assert_eq!(resp.status().as_u16(), 200, "{base}");
        Sub {
            resp,
            parser: SseParser::new(),
        }
    }

    /// Reads and checks ticks until `c.last_seq >= to` (true) or the stream stalls or ends
    /// (false).
    async fn read_to(&mut self, c: &mut Checker, to: u64) -> bool {
        let t0 = Instant::now();
        while c.last_seq < to {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "reading stuck at {}",
                c.last_seq
            );
            let chunk = match tokio::time::timeout(STALL, self.resp.chunk()).await {
                Ok(Ok(Some(b))) => b,
                Ok(Ok(None) | Err(_)) | Err(_) => return false,
            };
            for f in self.parser.push(&chunk) {
                match f.expect("a well-formed SSE stream") {
                    Frame::Tick(t) => c.check(&t),
                    Frame::Gap(g) => panic!("gap notice {g:?}"),
                    Frame::Bye(why) => panic!("bye: {why}"),
                    Frame::Heartbeat(_) | Frame::Retry(_) | Frame::End => {}
                }
            }
        }
        true
    }
}

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().unwrap()
}

/// The journal head of the edge at `url`, polled until it answers (bounded).
fn head(url: &str) -> u64 {
    let t0 = Instant::now();
    loop {
        match healthz(addr_of(url)) {
            Ok(n) => return n,
            Err(e) => assert!(t0.elapsed() < Duration::from_secs(20), "{url}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The client's part, in its own namespace: edge 1, the partition, edge 2, the heal, edge 1.
async fn client(dir: PathBuf, e1: String, e2: String) -> Checker {
    let d = dir.to_str().unwrap().to_string();
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut c = Checker::default();
    let mut sub = Sub::open(&http, &e1, 0).await;
    assert!(sub.read_to(&mut c, 300).await, "edge 1 streams");

    let cut = cli(&["cluster", "partition", "edge1", "--dir", &d]);
    assert!(cut.status.success(), "partition: {}", text(&cut.stderr));
    let t_cut = Instant::now();
    assert!(
        !sub.read_to(&mut c, u64::MAX).await,
        "edge 1's stream stalls"
    );
    assert!(
        healthz(addr_of(&e1)).is_err(),
        "edge 1 is unreachable while cut off"
    );

    // Resume on edge 2 by cursor.
    let moved_at = c.last_seq;
    let mut sub = Sub::open(&http, &e2, moved_at).await;
    assert!(sub.read_to(&mut c, moved_at + 400).await, "edge 2 streams");
    eprintln!(
        "client moved to edge 2 at seq {moved_at}, {:?} after the cut",
        t_cut.elapsed()
    );

    // Heal: edge 1 catches up from JetStream to where edge 2 was.
    tickbench_cluster::launch::heal(&dir, "edge1").expect("heal");
    let target = head(&e2);
    let t_heal = Instant::now();
    loop {
        if healthz(addr_of(&e1)).is_ok_and(|n| n >= target) {
            break;
        }
        assert!(
            t_heal.elapsed() < Duration::from_secs(30),
            "edge 1 did not catch up to {target} after the heal"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "edge 1 caught up to {target} {:?} after the heal",
        t_heal.elapsed()
    );

    // And the client moves back to it by cursor, still losing nothing.
    drop(sub);
    let back_at = c.last_seq;
    let mut sub = Sub::open(&http, &e1, back_at).await;
    assert!(
        sub.read_to(&mut c, back_at + 200).await,
        "edge 1 streams again"
    );
    c
}

/// Which network namespace `pid` is in (the nsfs inode).
fn ns_inode_of(pid: u32) -> u64 {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let s = link.to_string_lossy();
    s.trim_start_matches("net:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

#[test]
fn a_partitioned_edge_loses_no_client_tick_and_catches_up() {
    if skip_nats() {
        return;
    }
    if let Err(e) = netns::check() {
        if std::env::var("TICKBENCH_SKIP_NETNS").is_ok_and(|v| v == "1") {
            eprintln!("SKIPPED: TICKBENCH_SKIP_NETNS=1 ({e}), no namespace test ran");
            return;
        }
        panic!("{e} (or set TICKBENCH_SKIP_NETNS=1 to skip)");
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let d = dir.to_str().unwrap();
    let _guard = DownGuard(dir.clone());
    let up = cli(&[
        "cluster",
        "up",
        "--netns",
        "--edges",
        "2",
        "--agents",
        "0",
        "--dir",
        d,
        "--symbols",
        "20",
        "--rate",
        "200",
        "--seed",
        "5",
    ]);
    assert!(up.status.success(), "up --netns: {}", text(&up.stderr));
    let state = State::load(&dir).unwrap().unwrap();
    assert_eq!(state.phase, Phase::Up);
    let net_state = state.net.clone().expect("netns state");

    // Each process in its own namespace, none in ours.
    let own = ns_inode_of(std::process::id());
    let mut seen = Vec::new();
    for p in &state.procs {
        let ns = p.netns.as_deref().expect("a namespace");
        let want = std::fs::metadata(Path::new("/run/netns").join(ns))
            .unwrap()
            .ino();
        let got = ns_inode_of(p.pid);
        assert_eq!(got, want, "{} runs in {ns}", p.name);
        assert_ne!(got, own, "{} is not in the test's namespace", p.name);
        assert!(!seen.contains(&got), "{} shares a namespace", p.name);
        seen.push(got);
    }
    assert!(state
        .nats_url
        .as_deref()
        .unwrap()
        .starts_with("nats://10.213.0."));
    let edges: Vec<String> = state.edge_urls();
    assert_eq!(edges.len(), 2);
    assert_eq!(state.edges().filter(|p| p.role == Role::Edge).count(), 2);

    // The client gets a host of its own on the bridge (`down` removes it with the rest).
    let net = Net::new(&state.id);
    let host = net
        .add_host("client", net_state.next_octet())
        .expect("a client host");
    let (e1, e2) = (edges[0].clone(), edges[1].clone());
    let dir2 = dir.clone();
    let checked = std::thread::spawn(move || {
        netns::enter(&host.ns).expect("setns into the client's namespace");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(client(dir2, e1, e2))
    })
    .join()
    .unwrap_or_else(|p| std::panic::resume_unwind(p));
    assert_eq!(checked.sseq.len(), 20, "every symbol seen");
    eprintln!(
        "{} ticks, seq 1..={}, 0 lost, 0 duplicated",
        checked.ticks, checked.last_seq
    );

    let down = cli(&["cluster", "down", "--dir", d]);
    assert!(down.status.success(), "down: {}", text(&down.stderr));
    assert!(
        net.existing().is_empty(),
        "namespaces left: {:?}",
        net.existing()
    );
    let after = State::load(&dir).unwrap().unwrap();
    assert!(after.procs.iter().all(|p| !p.alive()));
}
