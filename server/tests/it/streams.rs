use std::time::Duration;

use serde_json::Value;
use tickbench_wire::Tick;

use crate::common::*;

fn sse_ids(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|s| s.parse().unwrap())
        .collect()
}

fn sse_data_ticks(text: &str) -> Vec<Tick> {
    // Only tick events (default type) carry `id:` followed by `data:`.
    text.split("\n\n")
        .filter(|e| e.contains("id: "))
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn multipart_bodies(text: &str) -> Vec<Value> {
    text.split("--tickbench\r\n")
        .skip(1)
        .filter_map(|p| {
            let (head, body) = p.split_once("\r\n\r\n")?;
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))?
                .parse()
                .ok()?;
            let body = body.get(..len)?;
            serde_json::from_str(body).ok()
        })
        .collect()
}

fn iframe_calls(text: &str, func: &str) -> Vec<String> {
    let open = format!("<script>parent.{func}(");
    text.split(&open)
        .skip(1)
        .filter_map(|p| p.split_once(");</script>").map(|(a, _)| a.to_string()))
        .collect()
}

#[tokio::test]
async fn ndjson_stream_from_cursor_then_live() {
    let s = server().await;
    s.publish(5);
    let mut r = StreamReader::open(&format!("{}/stream?since=3", s.url())).await;
    assert_eq!(r.header("content-type"), "application/x-ndjson");
    assert_eq!(r.header("cache-control"), "no-cache");
    assert_eq!(r.header("x-accel-buffering"), "no");
    assert_eq!(r.header("x-tickbench-next"), "3");
    r.until("backlog", |t| seqs(&ndjson(t)).len() >= 3).await;
    s.publish(4);
    r.until("live ticks", |t| seqs(&ndjson(t)).len() >= 7).await;
    assert_eq!(seqs(&ndjson(&r.text())), (3..=9).collect::<Vec<_>>());
    for f in ndjson(&r.text()) {
        serde_json::from_value::<Tick>(f).unwrap();
    }
    s.shutdown().await;
}

#[tokio::test]
async fn ndjson_from_now_with_filter_and_heartbeat() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        heartbeat: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    s.publish(10);
    let mut r = StreamReader::open(&format!("{}/stream?symbols=AAPL", s.url())).await;
    assert_eq!(r.header("x-tickbench-next"), "11");
    r.until("heartbeat", |t| t.contains("{\"heartbeat\":"))
        .await;
    s.publish(200);
    r.until("AAPL ticks", |t| seqs(&ndjson(t)).len() >= 3).await;
    let frames = ndjson(&r.text());
    for f in frames.iter().filter(|f| f.get("seq").is_some()) {
        assert_eq!(f["sym"], "AAPL");
        assert!(f["seq"].as_u64().unwrap() > 10);
    }
    s.shutdown().await;
}

#[tokio::test]
async fn ndjson_gap_then_oldest() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        retain: 10,
        ..Default::default()
    })
    .await;
    s.publish(25);
    let mut r = StreamReader::open(&format!("{}/stream?since=2", s.url())).await;
    r.until("gap and ticks", |t| seqs(&ndjson(t)).len() >= 10)
        .await;
    let frames = ndjson(&r.text());
    assert_eq!(frames[0], serde_json::json!({"gap":{"from":2,"to":15}}));
    assert_eq!(seqs(&frames), (16..=25).collect::<Vec<_>>());
    s.shutdown().await;
}

#[tokio::test]
async fn sse_events_ids_and_last_event_id_resume() {
    let s = server().await;
    s.publish(6);
    let mut r = StreamReader::open(&format!("{}/sse?since=1", s.url())).await;
    assert!(r.header("content-type").starts_with("text/event-stream"));
    assert_eq!(r.header("x-accel-buffering"), "no");
    r.until("six events", |t| sse_ids(t).len() >= 6).await;
    assert!(r.text().starts_with("retry: 2000\n"));
    assert_eq!(sse_ids(&r.text()), [1, 2, 3, 4, 5, 6]);
    let ticks = sse_data_ticks(&r.text());
    assert_eq!(
        ticks.iter().map(|t| t.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    drop(r);

    // Reconnect after id 4: Last-Event-ID wins over since, resumes at 5, nothing lost.
    s.publish(2);
    let mut r = StreamReader::open_with(
        client()
            .get(format!("{}/sse?since=1", s.url()))
            .header("Last-Event-ID", "4"),
    )
    .await;
    assert_eq!(r.header("x-tickbench-next"), "5");
    r.until("resumed events", |t| sse_ids(t).len() >= 4).await;
    assert_eq!(sse_ids(&r.text()), [5, 6, 7, 8]);
    s.shutdown().await;
}

#[tokio::test]
async fn sse_gap_event() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        retain: 5,
        ..Default::default()
    })
    .await;
    s.publish(12);
    let mut r = StreamReader::open_with(
        client()
            .get(format!("{}/sse", s.url()))
            .header("Last-Event-ID", "2"),
    )
    .await;
    r.until("gap", |t| sse_ids(t).len() >= 5).await;
    let text = r.text();
    assert!(
        text.contains("event: gap\ndata: {\"from\":3,\"to\":7}\n\n"),
        "{text}"
    );
    assert_eq!(sse_ids(&text), [8, 9, 10, 11, 12]);
    s.shutdown().await;
}

#[tokio::test]
async fn multipart_parts() {
    let s = server().await;
    s.publish(3);
    let mut r = StreamReader::open(&format!("{}/multipart?since=1", s.url())).await;
    assert_eq!(
        r.header("content-type"),
        "multipart/x-mixed-replace; boundary=tickbench"
    );
    r.until("three parts", |t| multipart_bodies(t).len() >= 3)
        .await;
    s.publish(1);
    r.until("fourth part", |t| multipart_bodies(t).len() >= 4)
        .await;
    assert_eq!(seqs(&multipart_bodies(&r.text())), [1, 2, 3, 4]);
    s.shutdown().await;
}

#[tokio::test]
async fn iframe_scripts() {
    let s = server().await;
    s.publish(3);
    let mut r = StreamReader::open(&format!("{}/iframe?since=2", s.url())).await;
    assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
    r.until("two ticks", |t| iframe_calls(t, "tick").len() >= 2)
        .await;
    let text = r.text();
    let first = text.find("<script>").unwrap();
    assert!(first >= 1024, "preamble padding is {first} bytes");
    let ticks: Vec<Tick> = iframe_calls(&text, "tick")
        .iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect();
    assert_eq!(ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), [2, 3]);
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_sends_bye_on_every_stream() {
    let s = server().await;
    s.publish(1);
    let base = s.url();
    let mut nd = StreamReader::open(&format!("{base}/stream?since=1")).await;
    let mut sse = StreamReader::open(&format!("{base}/sse?since=1")).await;
    let mut mp = StreamReader::open(&format!("{base}/multipart?since=1")).await;
    let mut ifr = StreamReader::open(&format!("{base}/iframe?since=1")).await;
    nd.until("tick", |t| t.contains("\"seq\":1")).await;
    sse.until("tick", |t| t.contains("id: 1")).await;
    mp.until("tick", |t| t.contains("\"seq\":1")).await;
    ifr.until("tick", |t| t.contains("parent.tick(")).await;
    let lp = tokio::spawn(get_json_owned(format!("{base}/longpoll?timeout=60")));

    tokio::time::sleep(Duration::from_millis(100)).await;
    s.shutdown().await;

    nd.read_until_end().await;
    assert!(
        nd.text().ends_with("{\"bye\":\"server shutting down\"}\n"),
        "{}",
        nd.text()
    );
    sse.read_until_end().await;
    assert!(sse.text().contains("event: bye\ndata: "), "{}", sse.text());
    mp.read_until_end().await;
    assert!(mp.text().ends_with("--tickbench--\r\n"));
    assert!(mp.text().contains("{\"bye\":"));
    ifr.read_until_end().await;
    assert!(ifr
        .text()
        .contains("<script>parent.bye(\"server shutting down\");</script>"));
    let (st, v) = tokio::time::timeout(Duration::from_secs(5), lp)
        .await
        .expect("held long-poll answered at shutdown")
        .unwrap();
    assert_eq!(st, 200);
    assert_eq!(v["ticks"], serde_json::json!([]));
}

async fn get_json_owned(url: String) -> (u16, Value) {
    get_json(&url).await
}

/// A client that stops reading does not make the server buffer without bound: it falls out of
/// the journal and, when it reads again, gets an explicit gap and continues from the oldest
/// retained tick.
#[tokio::test]
async fn stalled_stream_reader_gets_a_gap_not_unbounded_buffering() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        retain: 1_000,
        // The gap mechanism alone; the reset of slow streams is tested in `slow`.
        stream_max_behind: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let mut r = StreamReader::open(&format!("{}/stream?since=1", s.url())).await;
    // Far more than socket buffers plus hyper's write buffer hold (~110 bytes per tick).
    for _ in 0..20 {
        s.publish(10_000);
        tokio::task::yield_now().await;
    }
    let last = s.publish(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut tail = String::new();
    let mut gap_seen = false;
    let mut bytes = 0usize;
    while !(gap_seen && tail.contains(&format!("\"seq\":{last},"))) {
        let chunk = tokio::time::timeout_at(deadline, r.resp.chunk())
            .await
            .expect("timed out reading the backlog")
            .unwrap()
            .expect("stream ended");
        bytes += chunk.len();
        tail.push_str(&String::from_utf8_lossy(&chunk));
        if tail.contains("{\"gap\":{\"from\":") {
            gap_seen = true;
        }
        // Keep only the end (lines can span chunks).
        if tail.len() > 4096 {
            tail = tail[tail.len() - 2048..].to_string();
        }
    }
    assert!(gap_seen);
    // Everything published was ~22 MB; the reader got far less before the gap.
    assert!(
        bytes < 18_000_000,
        "received {bytes} bytes: no gap bounding?"
    );
    s.shutdown().await;
}
