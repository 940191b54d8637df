//! What the cluster tests share: a broker (or a loud skip), a feed, edges, and a polling client
//! that checks every tick's seq.

use std::time::{Duration, Instant};

use serde_json::Value;
use tickbench_cluster::broker::Broker;
use tickbench_cluster::feed::stream::Wanted;
use tickbench_cluster::feed::{Feed, FeedSettings};
use tickbench_server::{Config, ServerHandle};

/// A nats-server with JetStream on a free loopback port, storing in `store`; `None` (with a
/// message on stderr) when `TICKBENCH_SKIP_NATS=1`. Installing it when missing is the broker's.
pub fn broker(store: &std::path::Path) -> Option<Broker> {
    if std::env::var("TICKBENCH_SKIP_NATS").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: TICKBENCH_SKIP_NATS=1, no nats-server test ran");
        return None;
    }
    match Broker::start([127, 0, 0, 1].into(), 0, store) {
        Ok(b) => Some(b),
        Err(e) => panic!("{e} (or set TICKBENCH_SKIP_NATS=1 to skip)"),
    }
}

/// The market every test feeds: small, fast, a retention that never evicts here.
pub fn market() -> Wanted {
    Wanted {
        seed: Some(7),
        symbols: Some(20),
        rate: Some(400.0),
        retain: Some(100_000),
    }
}

pub async fn feed(url: &str, fresh: bool) -> Feed {
    feed_of(url, market(), fresh).await
}

pub async fn feed_of(url: &str, wanted: Wanted, fresh: bool) -> Feed {
    Feed::start(FeedSettings {
        url: url.to_string(),
        wanted,
        fresh,
    })
    .await
    .expect("feed starts")
}

/// An edge of the feed at `url` on a free port.
pub async fn edge(url: &str) -> ServerHandle {
    edge_at(url, "127.0.0.1:0").await
}

pub async fn edge_at(url: &str, addr: &str) -> ServerHandle {
    tickbench_server::spawn(
        Config {
            nats: Some(url.to_string()),
            ..Config::default()
        },
        addr.parse().unwrap(),
    )
    .await
    .expect("edge starts")
}

/// Waits (bounded) until `f` holds.
pub async fn until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A polling client that keeps a cursor and checks every tick it gets: seqs consecutive, no
/// gap notice. It can be pointed at any edge.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    /// The next seq wanted.
    pub cursor: u64,
    /// Every tick's JSON, in seq order.
    pub ticks: Vec<Value>,
}

impl Client {
    pub fn new(from: u64) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
            cursor: from,
            ticks: Vec::new(),
        }
    }

    /// One poll of `base`; `false` when the edge did not answer (down, restarting).
    pub async fn poll(&mut self, base: &str) -> bool {
        let url = format!("{base}/poll?since={}&limit=5000", self.cursor);
        let Ok(r) = self.http.get(&url).send().await else {
            return false;
        };
        let status = r.status().as_u16();
        let body: Value = r.json().await.expect("a JSON answer");
        assert_eq!(status, 200, "{url}: {body}");
        assert!(body["gap"].is_null(), "gap at {url}: {body}");
        for t in body["ticks"].as_array().unwrap() {
            assert_eq!(
                t["seq"].as_u64().unwrap(),
                self.cursor,
                "seq out of order: {t}"
            );
            self.cursor += 1;
            self.ticks.push(t.clone());
        }
        assert_eq!(body["next"].as_u64().unwrap(), self.cursor);
        true
    }

    /// Polls `base` until the cursor passes `seq` (bounded).
    pub async fn read_to(&mut self, base: &str, seq: u64) {
        let t0 = Instant::now();
        while self.cursor <= seq {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "{base} stopped at seq {} (wanted {seq})",
                self.cursor
            );
            if !self.poll(base).await {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Ticks `from..=to` as one edge (or any server) serves them, by polling.
pub async fn range(base: &str, from: u64, to: u64) -> Vec<Value> {
    let mut c = Client::new(from);
    c.read_to(base, to).await;
    c.ticks.truncate((to + 1 - from) as usize);
    c.ticks
}

/// A coordinated run of `clients` over two agents and `targets` with the tests' usual settings
/// (one worker per agent, 1 s ramp and warm-up, no fan-out floor); tests override fields.
pub fn coordination(
    targets: Vec<String>,
    clients: u64,
    transports: &str,
    duration: &str,
    label: &str,
    out: &std::path::Path,
) -> tickbench_cluster::agent::coordinator::Coordination {
    tickbench_cluster::agent::coordinator::Coordination {
        agents: 2,
        targets,
        clients,
        run_args: [
            format!("--transports={transports}"),
            format!("--duration={duration}"),
            "--ramp=1s".into(),
            "--warmup=1s".into(),
            "--no-fanout-floor".into(),
            "--workers=1".into(),
        ]
        .to_vec(),
        label: label.into(),
        out: out.to_path_buf(),
        wait: Duration::from_secs(20),
        start_delay: Duration::from_millis(500),
        dead_after: Duration::from_secs(30),
        procs: Vec::new(),
    }
}
