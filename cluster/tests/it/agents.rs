//! Two load agents and a coordinator over NATS, against two edges of one feed: the merged
//! results folder is an ordinary one, every merged histogram's count is the sum of the agents'
//! counts, the summed counters are the agents' sums, and nothing was lost.

use std::time::Duration;

use tickbench_cluster::agent::coordinator::{coordinate, Coordination};
use tickbench_cluster::agent::worker;
use tickbench_server::feed::nats::connect;
use tokio_util::sync::CancellationToken;

use crate::support::{broker, edge, feed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_merge_into_one_run_whose_counts_are_their_sums() {
    let store = tempfile::tempdir().unwrap();
    let Some(broker) = broker(store.path()) else {
        return;
    };
    let url = broker.url();
    let feed = feed(&url, true).await;
    let (a, b) = (edge(&url).await, edge(&url).await);
    let cancel = CancellationToken::new();
    for name in ["agent-1", "agent-2"] {
        let client = connect(&url).await.unwrap();
        tokio::spawn(worker::serve(client, name.to_string(), cancel.clone()));
    }
    let out = tempfile::tempdir().unwrap();
    let client = connect(&url).await.unwrap();
    let done = coordinate(
        &client,
        &Coordination {
            agents: 2,
            targets: vec![a.url(), b.url()],
            clients: 40,
            run_args: [
                "--transports=sse,poll",
                "--duration=2s",
                "--ramp=1s",
                "--warmup=1s",
                "--no-fanout-floor",
                "--workers=1",
            ]
            .map(String::from)
            .to_vec(),
            label: "agents".into(),
            out: out.path().to_path_buf(),
            wait: Duration::from_secs(20),
            start_delay: Duration::from_millis(500),
            dead_after: Duration::from_secs(30),
        },
    )
    .await
    .expect("the coordinated run finishes");
    cancel.cancel();

    let br = &done.breakdown;
    let agents = br["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2, "{br}");
    for ag in agents {
        assert_eq!(ag["status"], "ok", "{br}");
        assert_eq!(ag["clients"], 20);
    }
    for t in &done.summary.transports {
        let of = |ag: &serde_json::Value, key: &str| -> u64 {
            ag["transports"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["transport"] == t.name.as_str())
                .map_or(0, |r| r[key].as_u64().unwrap())
        };
        let agents_count: u64 = agents.iter().map(|ag| of(ag, "latency_count")).sum();
        let merged = br["merged_latency_count"][&t.name].as_u64().unwrap_or(0);
        assert!(merged > 0, "{}: nothing measured: {br}", t.name);
        assert_eq!(
            merged, agents_count,
            "{}: merged count = the agents' sum",
            t.name
        );
        let delivered: u64 = agents.iter().map(|ag| of(ag, "delivered")).sum();
        assert_eq!(t.delivered, delivered, "{}", t.name);
        assert_eq!(t.clients, 40, "{}", t.name);
        assert_eq!(
            (t.gaps, t.duplicates, t.out_of_order),
            (0, 0, 0),
            "{}",
            t.name
        );
    }
    // An ordinary results folder: the one reader reads it.
    for f in [
        "summary.json",
        "latency.hlog",
        "report.md",
        "latency.svg",
        "agents.json",
        "sse.hgrm",
    ] {
        assert!(done.dir.join(f).is_file(), "{f} in {}", done.dir.display());
    }
    let read = tickbench_loadgen::results::read(&done.dir).expect("readable");
    assert_eq!(read.transports.len(), done.summary.transports.len());
    a.shutdown().await;
    b.shutdown().await;
    feed.shutdown().await;
}
