//! HTTPS with ALPN on the self-signed certificate the server makes at start: h2 and http/1.1
//! are negotiated and deliver the streams; garbage, plaintext and silent handshakes are cut
//! within the header timeout and free their connection slot while a healthy client receives.

use std::time::Duration;

use tickbench_server::{Config, ServerHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

async fn tls_server(header_timeout: Duration) -> ServerHandle {
    server_with(Config {
        rate: 0.0,
        header_timeout,
        tls: Some(tickbench_server::config::TlsSource::SelfSigned),
        ..Config::default()
    })
    .await
}

/// A client trusting exactly the server's certificate; `h1` restricts ALPN to http/1.1.
fn tls_client(s: &ServerHandle, h1: bool) -> reqwest::Client {
    let pem = s.tls().expect("TLS server").cert_pem();
    let b = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(20));
    let b = if h1 { b.http1_only() } else { b };
    b.build().unwrap()
}

#[tokio::test]
async fn alpn_negotiates_h2_and_http11_and_both_deliver() {
    let s = tls_server(Duration::from_secs(10)).await;
    assert!(s.url().starts_with("https://127.0.0.1:"), "{}", s.url());
    assert_eq!(s.tls().unwrap().fingerprint().len(), 95);
    for (h1, version) in [
        (false, reqwest::Version::HTTP_2),
        (true, reqwest::Version::HTTP_11),
    ] {
        let c = tls_client(&s, h1);
        let first = s.publish(1);
        for path in ["/sse", "/stream", "/multipart", "/iframe"] {
            let mut r =
                StreamReader::open_with(c.get(format!("{}{path}?since={first}", s.url()))).await;
            assert_eq!(r.resp.version(), version, "{path}");
            let want = s.publish(2);
            r.until(&format!("{path} seq {want}"), |t| {
                t.contains(&format!("\"seq\":{want},"))
            })
            .await;
        }
        let r = c
            .get(format!("{}/poll?since={first}", s.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.version(), version);
        assert_eq!(r.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn an_untrusted_client_is_refused() {
    let s = tls_server(Duration::from_secs(10)).await;
    let c = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let e = c
        .get(format!("{}/healthz", s.url()))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_connect(), "{e:?}");
}

/// Sends `bytes` and waits for the server to close; panics after `bound`.
async fn closed_within(addr: std::net::SocketAddr, bytes: &[u8], bound: Duration) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    let _ = c.write_all(bytes).await;
    let mut buf = [0u8; 4096];
    let r = tokio::time::timeout(bound, async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(r.is_ok(), "server kept {bytes:?} open for {bound:?}");
}

#[tokio::test]
async fn garbage_and_slow_handshakes_are_cut_while_a_healthy_client_receives() {
    let s = tls_server(Duration::from_secs(1)).await;
    let c = tls_client(&s, false);
    let mut healthy = StreamReader::open_with(c.get(format!("{}/sse", s.url()))).await;
    let bound = Duration::from_secs(5);
    // A TLS record header of a handshake followed by garbage instead of a ClientHello.
    let mut hello = vec![0x16, 0x03, 0x01, 0x00, 0x40];
    hello.extend_from_slice(&[0xee; 0x40]);
    closed_within(s.addr(), &hello, bound).await;
    // Not TLS at all: plaintext HTTP/1.1 and the h2c preface.
    closed_within(s.addr(), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", bound).await;
    closed_within(s.addr(), b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", bound).await;
    // A record header promising more than it sends, then silence: the header timeout cuts it.
    closed_within(s.addr(), &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01], bound).await;
    // Nothing at all.
    closed_within(s.addr(), b"", bound).await;
    // Every slot is free again: the healthy client's one h2 connection (which also carries
    // this /metrics request) is the only one open.
    assert_eq!(conns_open(&s, &c).await, 1);
    let want = s.publish(3);
    healthy
        .until("the healthy client's ticks", |t| {
            t.contains(&format!("id: {want}\n"))
        })
        .await;
}

/// `tickbench_open_connections` read over `c`.
async fn conns_open(s: &ServerHandle, c: &reqwest::Client) -> u64 {
    let text = c
        .get(format!("{}/metrics", s.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("tickbench_open_connections "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
