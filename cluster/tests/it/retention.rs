//! JetStream's retention is the edges' too: an edge started after the stream dropped its oldest
//! ticks starts at the oldest it holds, and a cursor older than that gets the explicit gap notice
//! (then the retained ticks), exactly as from a single server's journal.

use std::time::Duration;

use serde_json::Value;
use tickbench_cluster::feed::stream::Wanted;

use crate::support::{broker, edge, feed_of, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_beyond_the_streams_retention_gets_the_gap_notice() {
    let store = tempfile::tempdir().unwrap();
    let Some(broker) = broker(store.path()) else {
        return;
    };
    let url = broker.url();
    let wanted = Wanted {
        retain: Some(50),
        ..crate::support::market()
    };
    let feed = feed_of(&url, wanted, true).await;
    until(
        "the feed to publish 150 ticks",
        Duration::from_secs(20),
        || feed.acked() >= 150,
    )
    .await;
    let e = edge(&url).await;
    assert_eq!(
        e.journal().retain(),
        50,
        "the edge retains what the stream does"
    );
    let first = e.journal().first_seq();
    assert!(
        first > 100,
        "starts at the stream's oldest, not at 1: {first}"
    );

    let body: Value = reqwest::get(format!("{}/poll?since=3&limit=10", e.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gap_to = body["gap"]["to"].as_u64().unwrap();
    assert_eq!(body["gap"]["from"], 3, "{body}");
    assert!(gap_to + 1 >= first, "{body}");
    assert_eq!(
        body["ticks"][0]["seq"].as_u64().unwrap(),
        gap_to + 1,
        "{body}"
    );
    e.shutdown().await;
    feed.shutdown().await;
}
