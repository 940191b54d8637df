//! HTTP/2 with prior knowledge (h2c) on the same port as HTTP/1.1: every stream and request
//! transport delivers over it (the WebSocket upgrade, HTTP/1.1's, is refused with a 4xx) (the negotiated version asserted), several streams share one
//! connection, a slow stream is reset alone, and garbage or silent HTTP/2 connections are
//! dropped while a healthy client keeps receiving.

use std::time::Duration;

use tickbench_server::Config;
use tickbench_wire::{transport::Kind, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// A client that speaks HTTP/2 with prior knowledge (one connection for all its requests).
pub fn h2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Opens `path` on `client`, asserting the answer came over HTTP/2.
async fn open_h2(client: &reqwest::Client, url: &str) -> StreamReader {
    let r = StreamReader::open_with(client.get(url)).await;
    assert_eq!(r.resp.version(), reqwest::Version::HTTP_2, "{url}");
    r
}

/// The `"seq":N` values in `text`, in order.
fn seqs_in(text: &str) -> Vec<u64> {
    text.match_indices("\"seq\":")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn every_transport_delivers_over_h2c() {
    let s = server().await;
    let first = s.publish(1);
    let c = h2_client();
    let (_, symbols) = get_json(&format!("{}/symbols", s.url())).await;
    let sym = symbols["symbols"][0]["sym"].as_str().unwrap().to_string();
    for t in Transport::ALL {
        let path = match t {
            Transport::Piggyback => format!("{}/{sym}", t.path()),
            _ => t.path().to_string(),
        };
        let url = format!("{}{path}?since={first}", s.url());
        match t.kind() {
            Kind::Stream => {
                let mut r = open_h2(&c, &url).await;
                let want = s.publish(3);
                r.until(&format!("{t} seq {want}"), |txt| {
                    seqs_in(txt).contains(&want)
                })
                .await;
                let got = seqs_in(&r.text());
                assert_eq!(
                    got,
                    (first..=want).collect::<Vec<_>>(),
                    "{t}: in order, no gap"
                );
            }
            Kind::Duplex => {
                // The WebSocket upgrade is HTTP/1.1's: over HTTP/2 a clear 4xx, not a hang.
                let r = c.get(&url).send().await.unwrap();
                assert_eq!(r.version(), reqwest::Version::HTTP_2, "{t}");
                assert!(r.status().is_client_error(), "{t}: {}", r.status());
            }
            Kind::Polled | Kind::Piggyback | Kind::Held => {
                let r = c.get(&url).send().await.unwrap();
                assert_eq!(r.version(), reqwest::Version::HTTP_2, "{t}");
                assert_eq!(r.status().as_u16(), 200, "{t}");
                let body = r.text().await.unwrap();
                assert!(seqs_in(&body).contains(&first), "{t}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn streams_share_one_h2_connection() {
    let s = server().await;
    let c = h2_client();
    let mut readers = Vec::new();
    for _ in 0..5 {
        readers.push(open_h2(&c, &format!("{}/sse", s.url())).await);
    }
    let want = s.publish(5);
    for r in &mut readers {
        r.until("five ticks", |t| seqs_in(t).contains(&want)).await;
    }
    assert_eq!(
        metric(&s.url(), "tickbench_connections_accepted_total").await,
        2,
        "the five streams and this /metrics request: one h2 connection, one h1"
    );
}

#[tokio::test]
async fn a_slow_h2_stream_is_reset_alone() {
    let s = server_with(Config {
        rate: 0.0,
        stream_max_behind: Duration::from_millis(400),
        ..Config::default()
    })
    .await;
    let c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .http2_initial_stream_window_size(16 * 1024)
        .http2_initial_connection_window_size(4 * 1024 * 1024)
        .build()
        .unwrap();
    let mut fast = open_h2(&c, &format!("{}/sse", s.url())).await;
    let mut slow = open_h2(&c, &format!("{}/sse", s.url())).await;
    // Far more than the slow stream's window and hyper's send buffer: it falls behind.
    let mut last = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let closes = |url: String| async move {
        metric(
            &url,
            "tickbench_slow_consumer_closes_total{transport=\"sse\"}",
        )
        .await
    };
    while closes(s.url()).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "slow stream never cut"
        );
        last = s.publish(2_000);
        fast.until("the fast stream keeps up", |t| {
            t.contains(&format!("id: {last}\n"))
        })
        .await;
        fast.buf.clear();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The neighbour on the same connection goes on receiving.
    let next = s.publish(1);
    fast.until("the fast stream after the cut", |t| {
        t.contains(&format!("id: {next}\n"))
    })
    .await;
    assert!(next > last);
    // The slow stream, read now, ends with a reset (RST_STREAM), not a clean end.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match slow.resp.chunk().await {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .expect("slow stream ends");
    assert!(
        ended.is_err(),
        "slow stream ended cleanly instead of being reset"
    );
    assert_eq!(closes(s.url()).await, 1);
}

/// Sends `bytes` and waits for the server to close; panics after 5 s.
async fn closed_after(addr: std::net::SocketAddr, bytes: &[u8]) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    let _ = c.write_all(bytes).await;
    let mut buf = [0u8; 4096];
    let r = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(r.is_ok(), "server kept {bytes:?} open");
}

#[tokio::test]
async fn garbage_h2_is_dropped_while_a_healthy_h2_client_receives() {
    let s = server_with(Config {
        rate: 0.0,
        header_timeout: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let c = h2_client();
    let mut healthy = open_h2(&c, &format!("{}/sse", s.url())).await;
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    // A broken preface.
    closed_after(s.addr(), b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n").await;
    // The preface followed by garbage instead of a SETTINGS frame.
    let mut junk = PREFACE.to_vec();
    junk.extend_from_slice(&[0xff; 64]);
    closed_after(s.addr(), &junk).await;
    // A frame header announcing a 16 MiB frame.
    let mut huge = PREFACE.to_vec();
    huge.extend_from_slice(&[0xff, 0xff, 0xff, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]);
    closed_after(s.addr(), &huge).await;
    // The preface and then silence: cut at the header timeout.
    closed_after(s.addr(), PREFACE).await;
    // Part of the preface and then silence.
    closed_after(s.addr(), b"PRI * HTTP/2").await;

    let want = s.publish(3);
    healthy
        .until("the healthy client's ticks", |t| {
            t.contains(&format!("id: {want}\n"))
        })
        .await;
}
