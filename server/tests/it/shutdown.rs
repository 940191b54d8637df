//! Graceful shutdown: `ServerHandle::shutdown` returns only after every stream has written its
//! final frame, and request clients get a clean close.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// Opens a raw HTTP/1.1 GET and reads until `marker` appears in the answer.
async fn raw_get(addr: std::net::SocketAddr, path: &str, marker: &str) -> (TcpStream, Vec<u8>) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&buf).contains(marker) {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, c.read(&mut chunk))
            .await
            .expect("marker in time")
            .unwrap();
        assert!(n > 0, "closed before {marker}");
        buf.extend_from_slice(&chunk[..n]);
    }
    (c, buf)
}

/// Everything already in the socket's receive buffer, without waiting (a plain non-blocking
/// read(2) on the std socket, not tokio's cached readiness), plus whether EOF was seen.
fn drain_now(c: TcpStream, buf: &mut Vec<u8>) -> bool {
    use std::io::Read as _;
    let mut c = c.into_std().unwrap();
    c.set_nonblocking(true).unwrap();
    let mut chunk = [0u8; 65536];
    loop {
        match c.read(&mut chunk) {
            Ok(0) => return true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[tokio::test]
async fn shutdown_returns_after_every_bye_is_written() {
    let s = server().await;
    s.publish(3);
    let addr = s.addr();
    // Each transport's last words.
    let kinds = [
        ("/sse?since=1", "event: bye\ndata: server shutting down\n"),
        ("/stream?since=1", "{\"bye\":\"server shutting down\"}\n"),
        ("/multipart?since=1", "--tickbench--\r\n"),
        (
            "/iframe?since=1",
            "parent.bye(\"server shutting down\");</script>",
        ),
    ];
    let mut streams = Vec::new();
    for i in 0..12 {
        let (path, bye) = kinds[i % kinds.len()];
        streams.push((bye, raw_get(addr, path, "\"seq\":3").await));
    }
    s.shutdown().await;
    // Loopback delivers a write into the peer's receive buffer within the write call, so what
    // the server wrote before `shutdown` returned is readable now without waiting.
    for (bye, (c, mut buf)) in streams {
        let eof = drain_now(c, &mut buf);
        let text = String::from_utf8_lossy(&buf);
        assert!(
            text.contains(bye),
            "no bye before shutdown returned:\n{text}"
        );
        assert!(eof, "connection still open when shutdown returned");
    }
}

#[tokio::test]
async fn request_clients_get_a_clean_close_at_shutdown() {
    let s = server().await;
    let addr = s.addr();
    // An idle keep-alive connection after one answered request.
    let (mut c, _) = raw_get(addr, "/healthz", "\"status\":\"ok\"").await;
    s.shutdown().await;
    let mut rest = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut rest)).await;
    assert!(
        r.expect("closed at shutdown").is_ok(),
        "clean FIN, not a reset"
    );
    assert!(rest.is_empty(), "nothing after the answer: {rest:?}");
}

/// A reader that never reads cannot be sent its bye (its buffers are full): shutdown still
/// returns, bounded by the drain time, and a healthy stream on the same server gets its bye.
#[tokio::test]
async fn a_stalled_reader_does_not_hold_up_shutdown() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        drain: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    s.publish(1);
    let addr = s.addr();
    // Never reads past the first tick.
    let (stalled, _) = raw_get(addr, "/stream?since=1", "\"seq\":1").await;
    let mut healthy = StreamReader::open(&format!("{}/stream", s.url())).await;
    // Far more than the socket buffers and hyper's write buffer hold (~110 bytes per tick).
    for _ in 0..10 {
        s.publish(10_000);
        tokio::task::yield_now().await;
    }
    healthy
        .until_contains("the backlog", "\"seq\":100001,")
        .await;
    tokio::time::timeout(Duration::from_secs(10), s.shutdown())
        .await
        .expect("shutdown bounded by the drain time");
    healthy.read_until_end().await;
    assert!(healthy
        .text()
        .ends_with("{\"bye\":\"server shutting down\"}\n"));
    drop(stalled);
}
