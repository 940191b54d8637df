//! Hostile input over real sockets: malformed requests, oversized heads and bodies, slowloris,
//! half-open connections, absurd parameters, injection attempts. Each must get a clear
//! 4xx/408/431/503 or a prompt close, never a panic, while a healthy SSE client on the same
//! server keeps receiving every published tick.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// How long any hostile connection may take to be answered or closed.
const BOUND: Duration = Duration::from_secs(5);

/// Panics raised from the server's own source files, counted by a chained panic hook (test
/// failures elsewhere in the binary are not counted).
static SERVER_PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_server_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info
                .location()
                .is_some_and(|l| l.file().contains("server/src"))
            {
                SERVER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            prev(info);
        }));
    });
}

/// What the server did with one raw exchange.
#[derive(Debug)]
struct Outcome {
    /// Status of the first answer, if any.
    status: Option<u16>,
    text: String,
}

/// Sends `bytes` (optionally then shuts down the write half) and reads until the server closes,
/// failing if that takes longer than [`BOUND`]. Write errors are fine: the server may close
/// (or reset) before a flood is fully sent.
async fn exchange(addr: std::net::SocketAddr, bytes: &[u8], shut_write: bool) -> Outcome {
    let mut c = TcpStream::connect(addr).await.unwrap();
    let _ = c.write_all(bytes).await;
    if shut_write {
        let _ = c.shutdown().await;
    }
    let mut buf = Vec::new();
    let r = tokio::time::timeout(BOUND, read_to_close(&mut c, &mut buf)).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    assert!(
        r.is_ok(),
        "connection still open after {BOUND:?} for {:?}; got {text}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
    );
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|s| s.parse().ok());
    Outcome { status, text }
}

/// Reads until EOF or a reset (a reset after the answer is still a close).
async fn read_to_close(c: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 8192];
    loop {
        match c.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// One request with `Connection: close`, so the server closes after answering.
fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Asserts a 4xx JSON error naming `param`.
fn assert_param(o: &Outcome, param: &str) {
    assert_eq!(o.status, Some(400), "{}", o.text);
    let body = o.text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body.trim())
        .unwrap_or_else(|e| panic!("error body not JSON ({e}): {}", o.text));
    assert_eq!(v["param"], param, "{}", o.text);
    assert!(v["error"].is_string());
}

/// Answered with one of `allowed`, or closed without an answer.
fn assert_status_or_close(o: &Outcome, allowed: &[u16], what: &str) {
    match o.status {
        None => assert!(o.text.is_empty(), "{what}: garbage answer {}", o.text),
        Some(s) => assert!(allowed.contains(&s), "{what}: status {s}: {}", o.text),
    }
}

/// An SSE client reading from seq 1 in the background, recording every event id.
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
                while let Some(i) = pending.find('\n') {
                    let line: String = pending.drain(..=i).collect();
                    if let Some(id) = line.strip_prefix("id: ") {
                        out.lock().unwrap().push(id.trim().parse().unwrap());
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

#[tokio::test]
async fn hostile_input_gets_clear_answers_and_spares_healthy_clients() {
    count_server_panics();
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        symbols: 200,
        header_timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let addr = s.addr();
    s.publish(5);
    let healthy = Healthy::start(&s.url()).await;

    // Malformed request lines and heads.
    let malformed: &[&[u8]] = &[
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /poll\r\n\r\n",
        b"GET /poll HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /poll HTTP/1.1\r\nHost x\r\n\r\n",
        b"GET /poll HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /poll HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"GET /po\x00ll HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /poll?since=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        &[0xff; 300],
        b"\r\n\r\n\r\n\r\n",
    ];
    for req in malformed {
        let o = exchange(addr, req, false).await;
        assert_status_or_close(&o, &[400, 404, 505], "malformed");
    }
    s.publish(5);

    // Oversized heads: one huge header, too many headers, a 100 KB query string.
    let huge = format!(
        "GET /poll HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("GET /poll HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    let long_query = get(&format!("/poll?junk={}", "q".repeat(100_000)));
    let unknown_10k = get(&format!(
        "/poll?symbols={}",
        vec!["ZZZZZ"; 10_000].join(",")
    ));
    for (what, req) in [
        ("huge header", huge.into_bytes()),
        ("200 headers", many.into_bytes()),
        ("100 KB query", long_query),
        ("10,000 symbols", unknown_10k),
    ] {
        let o = exchange(addr, &req, false).await;
        assert_status_or_close(&o, &[414, 431], what);
    }
    s.publish(5);

    // Oversized bodies: declared, sent in full, and chunked without a declared length.
    let declared = b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{\"sym\":";
    let o = exchange(addr, declared, false).await;
    assert_eq!(o.status, Some(413), "{}", o.text);
    let full = format!(
        "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 100000\r\n\r\n{}",
        " ".repeat(100_000)
    );
    let o = exchange(addr, full.as_bytes(), false).await;
    assert_eq!(o.status, Some(413), "{}", o.text);
    let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
    let chunked = format!(
        "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{}0\r\n\r\n",
        chunk.repeat(4)
    );
    let o = exchange(addr, chunked.as_bytes(), false).await;
    assert_eq!(o.status, Some(413), "{}", o.text);
    s.publish(5);

    // Slowloris: headers dripped one byte at a time never complete within the header timeout.
    let mut c = TcpStream::connect(addr).await.unwrap();
    let drip = tokio::time::timeout(BOUND, async {
        for b in b"GET /poll HTTP/1.1\r\nHost: x\r\nX-Slow: ".iter().cycle() {
            if c.write_all(&[*b]).await.is_err() {
                break;
            }
            let mut probe = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(50), c.read(&mut probe)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => {
                    let t = String::from_utf8_lossy(&probe[..n]).into_owned();
                    assert!(t.starts_with("HTTP/1.1 408"), "slowloris answer: {t}");
                }
                Err(_) => {}
            }
        }
    })
    .await;
    assert!(drip.is_ok(), "slowloris connection not cut off");

    // Half-open: connect and send nothing; send half a request and shut down the write half.
    let o = exchange(addr, b"", false).await;
    assert_status_or_close(&o, &[408], "silent connection");
    let o = exchange(addr, b"GET /poll HTTP/1.1\r\nHo", true).await;
    assert_status_or_close(&o, &[400, 408], "half a request");
    let o = exchange(addr, b"", true).await;
    assert_status_or_close(&o, &[], "immediate EOF");
    s.publish(5);

    // Invalid UTF-8 and percent-encoding in parameters.
    for (target, param) in [
        ("/poll?since=%FF", "since"),
        ("/poll?since=%", "since"),
        ("/poll?since=%zz", "since"),
        ("/poll?symbols=%FF%FE", "symbols"),
        ("/poll?symbols=AAPL%00", "symbols"),
        ("/poll?limit=%C0%80", "limit"),
        ("/longpoll?timeout=%E2%80%A8", "timeout"),
    ] {
        assert_param(&exchange(addr, &get(target), false).await, param);
    }

    // Absurd cursors, limits and timeouts.
    for (target, param) in [
        ("/poll?since=18446744073709551616", "since"),
        ("/poll?since=99999999999999999999999999", "since"),
        ("/poll?since=18446744073709551615", "since"),
        ("/poll?since=-1", "since"),
        ("/poll?since=1.5", "since"),
        ("/poll?since=1e3", "since"),
        ("/poll?since=+1", "since"),
        ("/poll?since=", "since"),
        ("/poll?since=1&since=2", "since"),
        ("/poll?limit=0", "limit"),
        ("/poll?limit=-5", "limit"),
        ("/poll?limit=18446744073709551616", "limit"),
        ("/poll?limit=100001", "limit"),
        ("/longpoll?timeout=0", "timeout"),
        ("/longpoll?timeout=-1", "timeout"),
        ("/longpoll?timeout=18446744073709551615", "timeout"),
        ("/longpoll?timeout=121", "timeout"),
        ("/stream?since=18446744073709551615", "since"),
        ("/sse?since=-1", "since"),
    ] {
        assert_param(&exchange(addr, &get(target), false).await, param);
    }
    let sse_bad_id =
        b"GET /sse HTTP/1.1\r\nHost: x\r\nConnection: close\r\nLast-Event-ID: 18446744073709551615\r\n\r\n";
    assert_param(&exchange(addr, sse_bad_id, false).await, "Last-Event-ID");
    s.publish(5);

    // Watchlists: many unknown symbols (within the head limit), too many known ones, junk.
    let unknown = vec!["Q"; 3_000].join(",");
    assert_param(
        &exchange(addr, &get(&format!("/poll?symbols={unknown}")), false).await,
        "symbols",
    );
    let known = vec!["AAPL"; 1_001].join(",");
    assert_param(
        &exchange(addr, &get(&format!("/stream?symbols={known}")), false).await,
        "symbols",
    );
    for junk in ["", ",", "AAPL,,MSFT", "%20"] {
        assert_param(
            &exchange(addr, &get(&format!("/poll?symbols={junk}")), false).await,
            "symbols",
        );
    }

    // JSONP callback injection: nothing but an identifier path is ever echoed.
    for cb in [
        "alert(1)//",
        "%3C/script%3E%3Cscript%3Ealert(1)%3C/script%3E",
        "a;alert(1)",
        "a%0Aalert(1)",
        "a%E2%80%A8b",
        "%EF%BD%81lert",
        "a%00b",
        "a[0]",
        "a-b",
        "",
        &"a".repeat(65),
    ] {
        let o = exchange(addr, &get(&format!("/poll?callback={cb}")), false).await;
        assert_param(&o, "callback");
        assert!(!o.text.contains("alert"), "callback echoed: {}", o.text);
    }
    let o = exchange(
        addr,
        &get(&format!("/poll?callback={}", "a".repeat(64))),
        false,
    )
    .await;
    assert_eq!(o.status, Some(200));
    assert!(o.text.contains("application/javascript; charset=utf-8"));

    // Methods and paths.
    let o = exchange(
        addr,
        b"DELETE /poll HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        false,
    )
    .await;
    assert_eq!(o.status, Some(405), "{}", o.text);
    let o = exchange(addr, &get(&format!("/{}", "x".repeat(10_000))), false).await;
    assert_eq!(o.status, Some(404), "{}", o.text);

    // Still serving, nobody lost a tick, nothing panicked.
    let (st, _) = get_json(&format!("{}/healthz", s.url())).await;
    assert_eq!(st, 200);
    let last = s.publish(5);
    healthy.check_continuous(last).await;
    assert_eq!(
        SERVER_PANICS.load(Ordering::SeqCst),
        0,
        "the server panicked"
    );
    s.shutdown().await;
}

/// Over the connection cap new clients get 503 + `Retry-After` while an established stream
/// keeps receiving every tick.
#[tokio::test]
async fn overload_rejects_newcomers_and_keeps_streams_flowing() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        max_conns: 3,
        ..Default::default()
    })
    .await;
    s.publish(1);
    let healthy = Healthy::start(&s.url()).await;
    // Fill the remaining slots with idle connections.
    let _hold: Vec<TcpStream> = futures_idle(s.addr(), 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut rejected = 0;
    for _ in 0..20 {
        s.publish(3);
        let r = client()
            .get(format!("{}/poll?since=1", s.url()))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            assert_eq!(r.headers()["retry-after"], "1");
            let v: serde_json::Value = r.json().await.unwrap();
            assert!(v["error"].is_string());
            rejected += 1;
        }
    }
    assert_eq!(rejected, 20, "every newcomer over the cap gets a 503");
    let last = s.publish(1);
    healthy.check_continuous(last).await;
    s.shutdown().await;
}

async fn futures_idle(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(TcpStream::connect(addr).await.unwrap());
    }
    v
}

/// A broken chunked body is a 400 naming the body, not a 413.
#[tokio::test]
async fn malformed_chunked_body_is_a_bad_body_not_too_large() {
    let s = server().await;
    let req = b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";
    let o = exchange(s.addr(), req, false).await;
    assert_param(&o, "body");
    s.shutdown().await;
}
