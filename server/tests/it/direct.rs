//! Streams written without hyper (`server/src/direct.rs`), over raw HTTP/1.1 sockets: the same
//! bytes as hyper writes for the same stream, errors answered and the connection kept, a client
//! that leaves ends its stream at once.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

use crate::common::{metric, server};

/// A raw HTTP/1.1 connection to `url`'s host.
async fn connect(url: &str) -> TcpStream {
    TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until `done(bytes so far)` holds (bounded: 10 s).
async fn read_until(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    what: &str,
    done: impl Fn(&[u8]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(buf) {
        let mut chunk = [0u8; 4096];
        let n = timeout(deadline - Instant::now(), s.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("{what}: timed out; got {}", String::from_utf8_lossy(buf)))
            .unwrap();
        assert!(
            n > 0,
            "{what}: closed; got {}",
            String::from_utf8_lossy(buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits a response into its head (lowercased) and the bytes after it.
fn head_and_rest(buf: &[u8]) -> (String, &[u8]) {
    let end = find(buf, b"\r\n\r\n").expect("a complete head") + 4;
    (
        String::from_utf8_lossy(&buf[..end]).to_lowercase(),
        &buf[end..],
    )
}

/// Decodes complete chunks of a chunked body: (body bytes, whether the end chunk came).
fn dechunk(mut b: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        let Some(eol) = find(b, b"\r\n") else {
            return (out, false);
        };
        let len = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap(), 16).unwrap();
        if len == 0 {
            return (out, true);
        }
        let start = eol + 2;
        if b.len() < start + len + 2 {
            return (out, false);
        }
        assert_eq!(
            &b[start + len..start + len + 2],
            b"\r\n",
            "a chunk ends with CRLF"
        );
        out.extend_from_slice(&b[start..start + len]);
        b = &b[start + len + 2..];
    }
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[tokio::test]
async fn a_first_stream_request_has_the_bytes_hyper_gives_a_later_one() {
    let s = server().await;
    s.publish(5);
    for path in [
        "/sse?since=1",
        "/stream?since=1",
        "/multipart?since=1",
        "/iframe?since=1",
    ] {
        let marker: &[u8] = if path.starts_with("/sse") {
            b"id: "
        } else {
            b"\"seq\":"
        };
        // Direct: the connection's first request.
        let mut direct = connect(&s.url()).await;
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        direct.write_all(req.as_bytes()).await.unwrap();
        let mut d = Vec::new();
        read_until(&mut direct, &mut d, path, |b| {
            find(b, b"\r\n\r\n").is_some_and(|h| count(&dechunk(&b[h + 4..]).0, marker) >= 5)
        })
        .await;
        // hyper: the second request of a kept-alive connection.
        let mut via_hyper = connect(&s.url()).await;
        via_hyper
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut h = Vec::new();
        read_until(&mut via_hyper, &mut h, "healthz", |b| {
            find(b, b"\r\n\r\n").is_some_and(|e| b.ends_with(b"}") && e > 0)
        })
        .await;
        via_hyper.write_all(req.as_bytes()).await.unwrap();
        let mut h = Vec::new();
        read_until(&mut via_hyper, &mut h, path, |b| {
            find(b, b"\r\n\r\n").is_some_and(|e| count(&dechunk(&b[e + 4..]).0, marker) >= 5)
        })
        .await;
        let (dh, dbody) = head_and_rest(&d);
        let (hh, hbody) = head_and_rest(&h);
        assert!(dh.starts_with("http/1.1 200 ok\r\n"), "{dh}");
        for line in [
            "transfer-encoding: chunked",
            "x-tickbench-epoch: ",
            "date: ",
        ] {
            assert!(dh.contains(line), "{path}: {line} in {dh}");
            assert!(hh.contains(line), "{path}: {line} in {hh}");
        }
        for name in [
            "content-type",
            "cache-control",
            "x-accel-buffering",
            "x-tickbench-next",
        ] {
            let value = |head: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
            };
            assert_eq!(value(&dh), value(&hh), "{path}: {name}");
            assert!(value(&dh).is_some(), "{path}: {name}");
        }
        assert_eq!(dechunk(dbody).0, dechunk(hbody).0, "{path}: the same body");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn a_parameter_error_is_answered_and_the_connection_kept() {
    let s = server().await;
    let mut c = connect(&s.url()).await;
    c.write_all(b"GET /sse?symbols=NOPE HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut b = Vec::new();
    read_until(&mut c, &mut b, "both answers", |b| {
        count(b, b"HTTP/1.1 ") >= 2 && b.ends_with(b"}")
    })
    .await;
    let text = String::from_utf8_lossy(&b).to_lowercase();
    assert!(text.starts_with("http/1.1 400 bad request\r\n"), "{text}");
    assert!(text.contains("content-length: "), "{text}");
    assert!(text.contains(r#""param":"symbols""#), "{text}");
    assert!(
        text.contains("http/1.1 200 ok\r\n"),
        "the pipelined request is hyper's: {text}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_client_that_leaves_ends_its_stream_at_once() {
    let s = server().await;
    let url = s.url();
    let open = || metric(&url, "tickbench_open_streams{transport=\"sse\"}");
    let mut c = connect(&s.url()).await;
    c.write_all(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut b = Vec::new();
    read_until(&mut c, &mut b, "head and retry", |b| {
        find(b, b"retry: 2000").is_some()
    })
    .await;
    assert_eq!(open().await, 1);
    drop(c);
    // No tick is published and the heartbeat is 15 s away: only the read of end of file can
    // end it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while open().await != 0 {
        assert!(Instant::now() < deadline, "the stream outlived its client");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_a_direct_stream_with_bye_and_the_end_chunk() {
    let s = server().await;
    let url = s.url();
    let mut c = connect(&url).await;
    c.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut b = Vec::new();
    read_until(&mut c, &mut b, "head", |b| find(b, b"\r\n\r\n").is_some()).await;
    let stopping = tokio::spawn(s.shutdown());
    read_until(&mut c, &mut b, "bye and the end", |b| {
        dechunk(head_and_rest(b).1).1
    })
    .await;
    let body = dechunk(head_and_rest(&b).1).0;
    assert!(
        find(&body, b"\"bye\"").is_some(),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(
        c.read(&mut [0u8; 16]).await.unwrap(),
        0,
        "then the connection closes"
    );
    stopping.await.unwrap();
}
