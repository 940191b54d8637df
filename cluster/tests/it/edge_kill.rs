//! An edge killed mid-run: nats-server, a feed, two edges, two agents with a few hundred SSE
//! clients split over both. Edge 1 dies abruptly (no `bye`: every connection cut, then
//! connections refused); its clients move to edge 2 and resume by cursor: 0 gaps, 0 duplicates,
//! 0 out of order, every client receiving, and one takeover per client of edge 1.

use std::time::Duration;

use tickbench_cluster::agent::coordinator::coordinate;
use tickbench_cluster::agent::worker;
use tickbench_server::feed::nats::connect;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::support::{broker, coordination, edge, feed};

/// A TCP front for an edge that can be killed abruptly: its listener closes (new connections
/// are refused) and every connection through it is dropped at once, as when the edge's process
/// is SIGKILLed. The edge behind it never says `bye`.
async fn killable(upstream: std::net::SocketAddr) -> (String, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let front = tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let Ok((mut down, _)) = l.accept().await else {
                break;
            };
            tasks.spawn(async move {
                if let Ok(mut up) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
            });
        }
        // Aborting this task drops `tasks`, which aborts every connection with it.
    });
    (url, front)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_edge_moves_its_clients_to_the_other_without_loss() {
    let store = tempfile::tempdir().unwrap();
    let Some(broker) = broker(store.path()) else {
        return;
    };
    let url = broker.url();
    let feed = feed(&url, true).await;
    let (a, b) = (edge(&url).await, edge(&url).await);
    let (url_a, front_a) = killable(a.addr()).await;
    let (url_b, _front_b) = killable(b.addr()).await;
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
    tokio::spawn(async move {
        // Start delay 0.5 s + ramp 1 s + warm-up 1 s: edge 1 dies 2.5 s into an 8 s window.
        tokio::time::sleep(Duration::from_millis(5_000)).await;
        front_a.abort();
    });
    let out = tempfile::tempdir().unwrap();
    let client = connect(&url).await.unwrap();
    let done = coordinate(
        &client,
        &coordination(
            vec![url_a.clone(), url_b.clone()],
            200,
            "sse",
            "8s",
            "edge-kill",
            out.path(),
        ),
    )
    .await
    .expect("the run finishes");
    cancel.cancel();

    let sse = &done.summary.transports[0];
    let br = &done.breakdown;
    assert_eq!(
        (sse.gaps, sse.duplicates, sse.out_of_order, sse.gap_notices),
        (0, 0, 0, 0),
        "{br}"
    );
    assert_eq!(sse.clients, 200);
    assert_eq!(sse.clients_receiving, 200, "every client receiving: {br}");
    let k = sse.takeover.expect("takeovers recorded");
    assert_eq!(k.count, 100, "one takeover per client of edge 1: {br}");
    assert!(k.ms_p99 > 0.0 && k.ms_max >= k.ms_p99);
    let agent = |n: &str| {
        br["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["agent"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(agent("agent-1")["target"], url_a.as_str());
    assert_eq!(
        agent("agent-2")["transports"][0]["takeover"],
        serde_json::Value::Null
    );
    let report = std::fs::read_to_string(done.dir.join("report.md")).unwrap();
    assert!(report.contains("Edge failover"), "{report}");
    a.shutdown().await;
    b.shutdown().await;
    feed.shutdown().await;
}
