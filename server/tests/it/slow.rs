//! The slow-consumer policy over real sockets: a stream that stays behind the journal head for
//! longer than `stream_max_behind` is reset (RST, not a frame queued behind megabytes), resumes
//! by cursor and gets the gap notice first; fast and healthy clients are never cut.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tickbench_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::common::*;

/// `tickbench_slow_consumer_closes_total{transport="T"}` from `/metrics`.
async fn slow_closes(url: &str, transport: &str) -> u64 {
    metric(
        url,
        &format!("tickbench_slow_consumer_closes_total{{transport=\"{transport}\"}}"),
    )
    .await
}

/// The complete SSE events (`\n\n`-terminated) at the front of `buf`, removed from it.
fn take_events(buf: &mut String) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(i) = buf.find("\n\n") {
        out.push(buf[..i].to_string());
        buf.drain(..i + 2);
    }
    out
}

fn event_id(ev: &str) -> Option<u64> {
    ev.lines()
        .find_map(|l| l.strip_prefix("id: "))
        .map(|v| v.trim().parse().unwrap())
}

/// A reqwest SSE client that keeps every id it receives.
struct Healthy {
    ids: Arc<Mutex<Vec<u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Healthy {
    async fn start(url: &str) -> Healthy {
        let mut r = StreamReader::open(&format!("{url}/sse?since=1")).await;
        let ids = Arc::new(Mutex::new(Vec::new()));
        let out = ids.clone();
        let task = tokio::spawn(async move {
            let mut pending = String::new();
            while let Ok(Some(chunk)) = r.resp.chunk().await {
                pending.push_str(&String::from_utf8_lossy(&chunk));
                for ev in take_events(&mut pending) {
                    assert!(!ev.contains("event: gap"), "healthy client got a gap: {ev}");
                    if let Some(id) = event_id(&ev) {
                        out.lock().unwrap().push(id);
                    }
                }
            }
        });
        Healthy { ids, task }
    }

    /// Waits until `last` arrived, then checks the ids are exactly 1..=last.
    async fn check_continuous(self, last: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.ids.lock().unwrap().last() != Some(&last) {
            assert!(
                !self.task.is_finished(),
                "healthy client's stream ended at {:?}",
                self.ids.lock().unwrap().last()
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "healthy client stalled at {:?} (want {last})",
                self.ids.lock().unwrap().last()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let ids = self.ids.lock().unwrap().clone();
        assert_eq!(ids, (1..=last).collect::<Vec<_>>(), "gap or duplicate");
        self.task.abort();
    }
}

/// A raw-TCP SSE reader that drains a few hundred bytes per tick of a steady publisher falls
/// behind; its connection is reset soon after `stream_max_behind` (no `bye` frame), and on
/// resuming with the id of the last event it fully parsed, its first event is the gap notice
/// (its cursor was evicted) or, failing that, the very next id. A healthy reader of the same
/// server sees every tick and is never cut.
#[tokio::test]
async fn slow_reader_is_reset_then_resumes_with_a_gap() {
    let s = server_with(Config {
        rate: 0.0,
        retain: 3_000,
        stream_max_behind: Duration::from_millis(500),
        ..Config::default()
    })
    .await;
    s.publish(100);
    let healthy = Healthy::start(&s.url()).await;

    let sock = TcpSocket::new_v4().unwrap();
    // A small receive buffer, so the reset is seen after a few KiB still queued at the client
    // rather than after whatever the kernel would autotune.
    sock.set_recv_buffer_size(4096).unwrap();
    let mut c = sock.connect(s.addr()).await.unwrap();
    // HTTP/1.0: the body is close-delimited, so the raw bytes are the event stream.
    c.write_all(b"GET /sse?since=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut raw = Vec::new();
    let mut pending = String::new();
    let mut head_done = false;
    let mut last_id = 0u64;
    let mut buf = [0u8; 400];
    let ended = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "slow reader never cut (last id {last_id})"
        );
        // ~10k ticks/s published in bursts well under the retained window.
        s.publish(100);
        tokio::time::sleep(Duration::from_millis(10)).await;
        match c.read(&mut buf).await {
            Ok(0) => break "eof",
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
                break "reset";
            }
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
        if !head_done {
            if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..i]).into_owned();
                assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"));
                raw.drain(..i + 4);
                head_done = true;
            } else {
                continue;
            }
        }
        pending.push_str(&String::from_utf8_lossy(&raw));
        raw.clear();
        for ev in take_events(&mut pending) {
            assert!(!ev.contains("event: bye"), "a bye frame: {ev}");
            if let Some(id) = event_id(&ev) {
                last_id = id;
            }
        }
    };
    assert!(
        last_id > 0,
        "the slow reader got no tick before the cut ({ended})"
    );
    assert_eq!(slow_closes(&s.url(), "sse").await, 1);

    // Resume as an EventSource would, from the last event fully parsed.
    let mut r = StreamReader::open_with(
        client()
            .get(format!("{}/sse", s.url()))
            .header("Last-Event-ID", last_id.to_string()),
    )
    .await;
    r.until("first event after retry", |t| {
        t.split("\n\n").filter(|e| !e.is_empty()).count() >= 3
    })
    .await;
    let text = r.text();
    let first = text
        .split("\n\n")
        .find(|e| !e.starts_with("retry:"))
        .unwrap();
    if first.starts_with("event: gap") {
        let from = format!("\"from\":{}", last_id + 1);
        assert!(
            first.contains(&from),
            "gap does not start at the cursor: {first}"
        );
    } else {
        assert_eq!(
            event_id(first),
            Some(last_id + 1),
            "not a continuation: {first}"
        );
    }
    drop(r);

    let last = s.publish(1);
    healthy.check_continuous(last).await;
    assert_eq!(
        slow_closes(&s.url(), "sse").await,
        1,
        "a healthy stream was cut"
    );
    s.shutdown().await;
}

/// A fast client resuming from `since=1` with a large backlog is behind the head while it
/// catches up, but it catches up quickly and is not cut; after that it follows live ticks.
#[tokio::test]
async fn fast_client_with_a_backlog_is_not_cut() {
    let s = server_with(Config {
        rate: 0.0,
        retain: 100_000,
        stream_max_behind: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let backlog = s.publish(50_000);
    let mut r = StreamReader::open(&format!("{}/stream?since=1", s.url())).await;
    let mut next = 1u64;
    let mut tail = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut live = None;
    loop {
        let chunk = tokio::time::timeout_at(deadline, r.resp.chunk())
            .await
            .expect("timed out reading the backlog")
            .expect("stream read (cut?)")
            .expect("stream ended");
        tail.push_str(&String::from_utf8_lossy(&chunk));
        let done = tail.rfind('\n').map_or(0, |i| i + 1);
        for line in tail[..done].lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let seq = v["seq"]
                .as_u64()
                .unwrap_or_else(|| panic!("not a tick: {line}"));
            assert_eq!(seq, next, "gap or duplicate");
            next += 1;
        }
        tail.drain(..done);
        if next > backlog && live.is_none() {
            live = Some(s.publish(10));
        }
        if live.is_some_and(|l| next > l) {
            break;
        }
    }
    assert_eq!(slow_closes(&s.url(), "stream").await, 0);
    s.shutdown().await;
}

/// A reader that stops reading, with the kernel's *default* receive buffer, is still seen as
/// behind and reset: the server's send buffer is fixed (`--sndbuf`, 64 KiB by default), so what
/// can queue towards the reader is a few hundred KiB, not the 4 MiB send-buffer autotuning
/// would absorb first. Here under 3 MB are published in all.
#[tokio::test]
async fn stopped_reader_with_default_buffers_is_reset() {
    let s = server_with(Config {
        rate: 0.0,
        retain: 50_000,
        stream_max_behind: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    s.publish(1);
    let mut c = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(b"GET /stream?since=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    // Never read again.
    let mut published = 1;
    while slow_closes(&s.url(), "stream").await == 0 {
        assert!(
            published < 20_000,
            "not reset after {published} ticks published towards a reader that stopped"
        );
        published = s.publish(100);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The reset reached the client: reading now ends in an error or EOF, not a stall.
    assert_eq!(read_until_closed(&mut c).await, "reset");
    s.shutdown().await;
}
