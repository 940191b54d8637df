use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

#[tokio::test]
async fn connection_cap_answers_503_with_retry_after() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        max_conns: 2,
        ..Default::default()
    })
    .await;
    let a = TcpStream::connect(s.addr()).await.unwrap();
    let b = TcpStream::connect(s.addr()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = client()
        .get(format!("{}/healthz", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"].is_string());
    // Freeing a slot lets new clients in again.
    drop(a);
    drop(b);
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = client()
            .get(format!("{}/healthz", s.url()))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            ok = true;
            break;
        }
    }
    assert!(ok, "server did not recover after the cap");
    s.shutdown().await;
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        header_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "connection still open after the header timeout");
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unexpected answer: {text}"
    );
    // Others are still served.
    let (st, _) = get_json(&format!("{}/healthz", s.url())).await;
    assert_eq!(st, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn oversized_headers_are_rejected() {
    let s = server().await;
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    let req = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    c.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut buf))
        .await
        .expect("connection closed");
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "unexpected answer: {text}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn bad_config_is_rejected() {
    for cfg in [
        tickbench_server::Config {
            rate: -1.0,
            ..Default::default()
        },
        tickbench_server::Config {
            rate: 2_000_000.0,
            ..Default::default()
        },
        tickbench_server::Config {
            symbols: 0,
            ..Default::default()
        },
        tickbench_server::Config {
            symbols: 10_001,
            ..Default::default()
        },
        tickbench_server::Config {
            retain: 0,
            ..Default::default()
        },
    ] {
        let e = tickbench_server::spawn(cfg, "127.0.0.1:0".parse().unwrap()).await;
        assert!(e.is_err());
    }
}

#[tokio::test]
async fn paced_generator_publishes_with_scheduled_ts() {
    let s = server_with(tickbench_server::Config {
        rate: 200.0,
        ..Default::default()
    })
    .await;
    let mut r = StreamReader::open(&format!("{}/stream?since=0", s.url())).await;
    r.until("twenty ticks", |t| seqs(&ndjson(t)).len() >= 20)
        .await;
    let frames = ndjson(&r.text());
    let ticks: Vec<tickbench_wire::Tick> = frames
        .into_iter()
        .filter(|f| f.get("seq").is_some())
        .map(|f| serde_json::from_value(f).unwrap())
        .collect();
    let seq: Vec<u64> = ticks.iter().map(|t| t.seq).collect();
    assert_eq!(seq, (1..=seq.len() as u64).collect::<Vec<_>>());
    assert!(ticks.windows(2).all(|w| w[0].ts <= w[1].ts));
    let now = tickbench_wire::now_micros();
    assert!(ticks.iter().all(|t| t.ts <= now + 1_000));
    s.shutdown().await;
}
