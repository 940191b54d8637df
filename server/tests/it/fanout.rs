//! The fan-out writer (`server/src/fanout`): streams standing at the journal head on plain
//! HTTP/1.1 are written by the shards, one pass per publish; a stream whose socket fills is
//! handed back to its own task with the unwritten rest. Every tick arrives once, in order,
//! whichever writes it, and a reader that stops is still reset by `--max-behind`.

use std::time::Duration;

use tickbench_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::common::{metric, ndjson, read_until_closed, seqs, server, server_with, StreamReader};

/// Every `id: N` of an SSE text, in order.
fn sse_ids(text: &str) -> Vec<u64> {
    text.split('\n')
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|n| n.trim().parse().unwrap())
        .collect()
}

/// The seqs of the ticks of `syms` in an NDJSON stream's text, in order.
fn seqs_of(text: &str, syms: &[&str]) -> Vec<u64> {
    ndjson(text)
        .iter()
        .filter(|f| syms.iter().any(|s| f["sym"] == *s))
        .map(|f| f["seq"].as_u64().unwrap())
        .collect()
}

/// Waits (bounded) until the metric `key` reaches `at_least`.
async fn metric_reaches(url: &str, key: &str, at_least: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let v = metric(url, key).await;
        if v >= at_least {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key} stayed at {v}, below {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn parked_streams_get_every_tick_once_in_order() {
    let s = server().await;
    let url = s.url();
    let mut all = Vec::new();
    for _ in 0..6 {
        all.push(StreamReader::open(&format!("{url}/stream")).await);
    }
    let mut sse = StreamReader::open(&format!("{url}/sse")).await;
    let mut two = StreamReader::open(&format!("{url}/stream?symbols=AAPL,MSFT")).await;
    // Bursts of every size: one tick per pass, several frames in one sendmsg, a copy past the
    // iovec limit.
    let mut last = 0;
    for n in [1, 1, 3, 70, 1, 500, 2, 1] {
        last = s.publish(n);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let every: Vec<u64> = (1..=last).collect();
    for r in &mut all {
        r.until("every tick", |t| seqs(&ndjson(t)).last() == Some(&last))
            .await;
        assert_eq!(seqs(&ndjson(&r.text())), every);
    }
    sse.until("every tick", |t| sse_ids(t).last() == Some(&last))
        .await;
    assert_eq!(sse_ids(&sse.text()), every);
    let expected = seqs_of(&all[0].text(), &["AAPL", "MSFT"]);
    assert!(!expected.is_empty());
    two.until("the watched ticks", |t| {
        seqs(&ndjson(t)).last() == expected.last()
    })
    .await;
    assert_eq!(seqs(&ndjson(&two.text())), expected);
    let fanout = metric(&url, "tickbench_fanout_deliveries_total").await;
    assert!(fanout > 0, "no delivery went through the fan-out writer");
    let delivered = metric(&url, "tickbench_deliveries_total{transport=\"stream\"}").await;
    assert_eq!(
        delivered,
        6 * last + expected.len() as u64,
        "deliveries counted once each"
    );
    s.shutdown().await;
}

/// A raw HTTP/1.1 SSE stream (so written by the connection itself, and parked) with a tiny
/// receive buffer.
async fn tiny_reader(s: &tickbench_server::ServerHandle) -> tokio::net::TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut c = sock.connect(s.addr()).await.unwrap();
    c.write_all(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    c
}

#[tokio::test]
async fn a_full_socket_is_handed_back_and_loses_nothing() {
    let s = server().await;
    let url = s.url();
    let mut c = tiny_reader(&s).await;
    // Parked once the head is written (no tick yet: the retry line only).
    let mut buf = vec![0u8; 1 << 16];
    let n = c.read(&mut buf).await.unwrap();
    let mut got = buf[..n].to_vec();
    // Not reading: far more than the socket buffers hold.
    let mut last = 0;
    for _ in 0..40 {
        last = s.publish(100);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let returns = metric_reaches(&url, "tickbench_fanout_returns_total", 1).await;
    // Now read it all: the shard's rest, then the stream's own catch-up by cursor.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sse_ids(&String::from_utf8_lossy(&got)).last() != Some(&last) {
        let n = tokio::time::timeout_at(deadline, c.read(&mut buf))
            .await
            .expect("every tick within 20 s")
            .unwrap();
        assert!(n > 0, "the stream ended");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        sse_ids(&String::from_utf8_lossy(&got)),
        (1..=last).collect::<Vec<_>>(),
        "every tick once, in order"
    );
    // Caught up again, it parks again: the next ticks are the shard's.
    let before = metric(&url, "tickbench_fanout_deliveries_total").await;
    let mut more = last;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&url, "tickbench_fanout_deliveries_total").await == before {
        assert!(tokio::time::Instant::now() < deadline, "never parked again");
        more = s.publish(1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let n = c.read(&mut buf).await.unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    while sse_ids(&String::from_utf8_lossy(&got)).last() != Some(&more) {
        let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf))
            .await
            .expect("the last ticks")
            .unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        sse_ids(&String::from_utf8_lossy(&got)),
        (1..=more).collect::<Vec<_>>()
    );
    assert_eq!(
        metric(&url, "tickbench_fanout_returns_total").await,
        returns
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_parked_reader_that_stops_is_still_reset() {
    let s = server_with(Config {
        rate: 0.0,
        retain: 50_000,
        stream_max_behind: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let url = s.url();
    let mut c = tiny_reader(&s).await;
    let mut buf = vec![0u8; 1 << 16];
    let _ = c.read(&mut buf).await.unwrap();
    // Never read again.
    let mut published = 0;
    while metric(
        &url,
        "tickbench_slow_consumer_closes_total{transport=\"sse\"}",
    )
    .await
        == 0
    {
        assert!(
            published < 20_000,
            "not reset after {published} ticks towards a parked reader that stopped"
        );
        published = s.publish(100);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(metric(&url, "tickbench_fanout_returns_total").await >= 1);
    assert_eq!(read_until_closed(&mut c).await, "reset");
    s.shutdown().await;
}

#[tokio::test]
async fn a_parked_stream_says_bye_at_shutdown() {
    let s = server().await;
    let url = s.url();
    let mut r = StreamReader::open(&format!("{url}/stream")).await;
    let last = s.publish(5);
    r.until("ticks", |t| seqs(&ndjson(t)).last() == Some(&last))
        .await;
    metric_reaches(&url, "tickbench_fanout_deliveries_total", 1).await;
    let shutdown = tokio::spawn(async move { s.shutdown().await });
    r.read_until_end().await;
    let frames = ndjson(&r.text());
    assert_eq!(seqs(&frames), (1..=last).collect::<Vec<_>>());
    assert!(
        frames.last().unwrap().get("bye").is_some(),
        "no bye: {}",
        r.text()
    );
    shutdown.await.unwrap();
}

/// A parked stream watching one symbol gets its heartbeats from the writer while other
/// symbols' ticks go by (which the writer never locks it for): it neither repeats nor misses
/// a tick of its own.
#[tokio::test]
async fn heartbeats_of_a_parked_watchlist_lose_and_repeat_nothing() {
    let s = server_with(Config {
        rate: 0.0,
        heartbeat: Duration::from_millis(150),
        ..Config::default()
    })
    .await;
    let url = s.url();
    let mut all = StreamReader::open(&format!("{url}/stream")).await;
    let mut one = StreamReader::open(&format!("{url}/stream?symbols=AAPL")).await;
    let mut last = 0;
    for _ in 0..30 {
        last = s.publish(7);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    one.until("heartbeats", |t| t.matches("{\"heartbeat\":").count() >= 2)
        .await;
    all.until("every tick", |t| seqs(&ndjson(t)).last() == Some(&last))
        .await;
    let expected = seqs_of(&all.text(), &["AAPL"]);
    assert!(!expected.is_empty());
    one.until("every AAPL tick", |t| {
        seqs(&ndjson(t)).last() == expected.last()
    })
    .await;
    assert_eq!(seqs(&ndjson(&one.text())), expected);
    s.shutdown().await;
}
