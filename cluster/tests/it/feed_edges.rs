//! A feed and two edges: both edges serve exactly the seeded market (the ticks a standalone
//! server with the same seed, rate, symbols and epoch replays), identically, and a client moves
//! from one edge to the other by its cursor without losing a tick.

use std::time::Duration;

use tickbench_server::Config;

use crate::support::{broker, edge, feed, range, until, Client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_edges_serve_the_seeded_market_identically_and_a_client_switches_by_cursor() {
    let store = tempfile::tempdir().unwrap();
    let Some(broker) = broker(store.path()) else {
        return;
    };
    let url = broker.url();
    let feed = feed(&url, true).await;
    let a = edge(&url).await;
    let b = edge(&url).await;
    let m = feed.meta();
    assert_eq!((a.epoch_us(), b.epoch_us()), (m.epoch_us, m.epoch_us));

    let mut c = Client::new(1);
    c.read_to(&a.url(), 200).await;
    until(
        "edge B to reach the client's cursor",
        Duration::from_secs(20),
        || b.journal().next_seq() >= c.cursor,
    )
    .await;
    c.read_to(&b.url(), 400).await;
    let got = &c.ticks[..400];

    assert_eq!(range(&a.url(), 1, 400).await, got, "edge A");
    assert_eq!(range(&b.url(), 1, 400).await, got, "edge B");
    let reference = tickbench_server::spawn(
        Config {
            seed: m.seed,
            symbols: m.symbols,
            rate: m.rate,
            retain: m.retain,
            epoch_us: Some(m.epoch_us),
            ..Config::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        range(&reference.url(), 1, 400).await,
        got,
        "the edges serve the seeded market itself"
    );
    assert!(feed.acked() >= 400);

    // Streams are served from an edge's journal as from a server's: SSE from a cursor.
    let mut sse = reqwest::get(format!("{}/sse?since=390", b.url()))
        .await
        .unwrap();
    let mut text = String::new();
    while !text.contains("\nid: 400\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), sse.chunk())
            .await
            .expect("SSE delivers")
            .unwrap()
            .expect("SSE stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let sse400 = text.split("\nid: 400\ndata: ").nth(1).unwrap();
    let sse400: serde_json::Value = serde_json::from_str(sse400.lines().next().unwrap()).unwrap();
    assert_eq!(sse400, got[399]);
    reference.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
    feed.shutdown().await;
}
