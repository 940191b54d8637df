//! Two load agents and a coordinator over NATS, against two edges of one feed: the merged
//! results folder is an ordinary one, every merged histogram's count is the sum of the agents'
//! counts, the summed counters are the agents' sums, and nothing was lost.

use std::time::Duration;

use tickbench_cluster::agent::coordinator::{coordinate, Coordination};
use tickbench_cluster::agent::worker;
use tickbench_server::feed::nats::connect;
use tokio_util::sync::CancellationToken;

use crate::support::{broker, coordination, edge, feed};

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
        tokio::spawn(worker::serve(
            client,
            name.to_string(),
            None,
            cancel.clone(),
        ));
    }
    let out = tempfile::tempdir().unwrap();
    let client = connect(&url).await.unwrap();
    let done = coordinate(
        &client,
        &Coordination {
            procs: vec![("me".into(), std::process::id())],
            ..coordination(
                vec![a.url(), b.url()],
                40,
                "sse,poll",
                "2s",
                "agents",
                out.path(),
            )
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

/// An agent killed mid-run (its task aborted: it sends nothing more, not even a goodbye) is
/// reported lost, and what its beats carried up to then is kept: non-zero partial counts,
/// merged into the run, the merged histogram's count the sum of what every agent sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agents_data_up_to_its_death_is_kept_and_marked_partial() {
    let store = tempfile::tempdir().unwrap();
    let Some(broker) = broker(store.path()) else {
        return;
    };
    let url = broker.url();
    let feed = feed(&url, true).await;
    let (a, b) = (edge(&url).await, edge(&url).await);
    let cancel = CancellationToken::new();
    let mut tasks = Vec::new();
    for name in ["agent-1", "agent-2"] {
        let client = connect(&url).await.unwrap();
        tasks.push(tokio::spawn(worker::serve(
            client,
            name.to_string(),
            None,
            cancel.clone(),
        )));
    }
    let victim = tasks.pop().unwrap(); // agent-2
    tokio::spawn(async move {
        // Start delay 0.5 s + ramp 1 s + warm-up 1 s: killed about 3 s into a 6 s window.
        tokio::time::sleep(Duration::from_millis(5_500)).await;
        victim.abort();
    });
    let out = tempfile::tempdir().unwrap();
    let client = connect(&url).await.unwrap();
    let done = coordinate(
        &client,
        &Coordination {
            dead_after: Duration::from_secs(3),
            ..coordination(vec![a.url(), b.url()], 40, "sse", "6s", "lost", out.path())
        },
    )
    .await
    .expect("the run finishes without its lost agent");
    cancel.cancel();

    let br = &done.breakdown;
    let agents = br["agents"].as_array().unwrap();
    let lost = agents.iter().find(|g| g["agent"] == "agent-2").unwrap();
    assert_eq!(lost["status"], "lost", "{br}");
    assert_eq!(lost["partial"], true);
    let lost_at = lost["lost_at_s"].as_f64().unwrap();
    assert!(lost_at > 1.0, "{br}");
    let row = &lost["transports"][0];
    assert!(
        row["delivered"].as_u64().unwrap() > 0,
        "partial counts: {br}"
    );
    assert!(
        row["latency_count"].as_u64().unwrap() > 0,
        "partial histogram: {br}"
    );
    let ok = agents.iter().find(|g| g["agent"] == "agent-1").unwrap();
    assert_eq!(ok["status"], "ok", "{br}");
    let count = |g: &serde_json::Value| g["transports"][0]["latency_count"].as_u64().unwrap();
    assert_eq!(
        br["merged_latency_count"]["sse"].as_u64().unwrap(),
        count(ok) + count(lost),
        "merged = the sum of what was received"
    );
    let sse = &done.summary.transports[0];
    assert_eq!(
        sse.delivered,
        ok["transports"][0]["delivered"].as_u64().unwrap() + row["delivered"].as_u64().unwrap()
    );
    assert!(
        !done.summary.complete,
        "a run with a lost agent is not complete"
    );
    let report = std::fs::read_to_string(done.dir.join("report.md")).unwrap();
    assert!(
        report.contains("agent agent-2 lost at"),
        "report.md says so: {report}"
    );
    a.shutdown().await;
    b.shutdown().await;
    feed.shutdown().await;
}
