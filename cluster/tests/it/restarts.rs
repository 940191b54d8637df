//! What a cluster survives without losing a tick: a NATS restart (edges keep serving what they
//! hold and catch up when it is back), an edge restart (its client moves to the other edge by
//! cursor and back to the restarted one, which refilled from JetStream), and a feed restart (it
//! continues the same seeded stream after JetStream's newest tick).

use std::time::Duration;

use tickbench_server::Config;

use crate::support::{broker, edge, edge_at, feed, range, until, Client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_an_edge_and_a_feed_restart_lose_nothing() {
    let store = tempfile::tempdir().unwrap();
    let Some(mut broker) = broker(store.path()) else {
        return;
    };
    let url = broker.url();
    let feed1 = feed(&url, true).await;
    let a = edge(&url).await;
    let b = edge(&url).await;
    let mut c = Client::new(1);
    c.read_to(&a.url(), 100).await;

    // NATS restart: same port, same store.
    let held = a.journal().next_seq();
    tokio::task::block_in_place(|| broker.restart()).expect("nats-server restarts");
    assert!(a.journal().next_seq() >= held, "the edge kept what it had");
    c.read_to(&a.url(), held.max(c.cursor) + 200).await;

    // Edge restart: A goes away, its client resumes on B, A comes back on its port, refills
    // from JetStream, and the client returns to it.
    let addr = a.addr().to_string();
    a.shutdown().await;
    let to = c.cursor + 100;
    c.read_to(&b.url(), to).await;
    let a = edge_at(&url, &addr).await;
    let to = c.cursor + 100;
    c.read_to(&a.url(), to).await;

    // Feed restart: the new feed continues after JetStream's newest tick.
    let stopped_at = feed1.acked();
    feed1.shutdown().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let feed2 = feed(&url, false).await;
    // Ticks of a batch in flight at the stop may be stored without the old feed having counted
    // them; the new one starts after whatever the stream holds.
    assert!(
        feed2.first() > stopped_at,
        "continues after the stream's newest"
    );
    let to = feed2.first() + 200;
    c.read_to(&a.url(), to).await;
    until("edge B to catch up", Duration::from_secs(20), || {
        b.journal().next_seq() > to
    })
    .await;

    // Every tick of the whole run, on both edges, is the seeded market's.
    let n = c.cursor - 1;
    let m = feed2.meta();
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
    let want = range(&reference.url(), 1, n).await;
    assert_eq!(c.ticks, want, "the client got the seeded market, gap-free");
    assert_eq!(range(&a.url(), 1, n).await, want, "edge A");
    assert_eq!(range(&b.url(), 1, n).await, want, "edge B");
    reference.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
    feed2.shutdown().await;
}
