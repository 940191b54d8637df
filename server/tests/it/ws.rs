//! `GET /ws`: every tick in order with correct cursors, resume by `since`, catch-up batches,
//! live subscribe/unsubscribe, the JSON 400s before the upgrade, every bad frame's close code
//! (hand-built frames over a raw socket), and the 1001 close at shutdown.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tickbench_server::journal::SymFilter;
use tickbench_server::{Config, ServerHandle};
use tickbench_wire::framing::ws::{close, decode, Down, Op, OpName};
use tickbench_wire::framing::Frame;
use tickbench_wire::{Control, Tick};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{get_json, server, server_with};

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

const WAIT: Duration = Duration::from_secs(10);

fn ws_url(srv: &ServerHandle, query: &str) -> String {
    format!("ws://{}/ws{query}", srv.addr())
}

async fn connect(srv: &ServerHandle, query: &str) -> (Ws, u64) {
    let tcp = TcpStream::connect(srv.addr()).await.unwrap();
    let (ws, resp) = tokio_tungstenite::client_async(ws_url(srv, query), tcp)
        .await
        .expect("handshake");
    let next = resp.headers()["x-tickbench-next"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(resp.headers().contains_key("x-tickbench-epoch"));
    (ws, next)
}

/// The next server message, decoded (pings and pongs skipped).
async fn next_down(ws: &mut Ws) -> Down {
    loop {
        let m = timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("stream open")
            .expect("no error");
        match m {
            Message::Text(t) => return decode(t.as_bytes()).expect("valid message"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Reads messages until `n` ticks arrived, flattening batches; returns the ticks and how many
/// batches carried them.
async fn ticks(ws: &mut Ws, n: usize) -> (Vec<Tick>, usize) {
    let mut out = Vec::new();
    let mut batches = 0;
    while out.len() < n {
        match next_down(ws).await {
            Down::Frame(Frame::Tick(t)) => out.push(t),
            Down::Frame(Frame::Heartbeat(_)) => {}
            Down::Batch(b) => {
                assert!(b.gap.is_none());
                assert!(b.next > b.ticks.last().unwrap().seq);
                batches += 1;
                out.extend(b.ticks);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    (out, batches)
}

fn seqs(t: &[Tick]) -> Vec<u64> {
    t.iter().map(|t| t.seq).collect()
}

/// The close frame the server sent, after any other messages.
async fn close_of(ws: &mut Ws) -> (u16, String) {
    loop {
        match timeout(WAIT, ws.next()).await.expect("close in time") {
            Some(Ok(Message::Close(Some(f)))) => return (f.code.into(), f.reason.to_string()),
            Some(Ok(Message::Close(None))) => panic!("close without a code"),
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    }
}

#[tokio::test]
async fn delivers_every_tick_in_order_and_resumes_by_since() {
    let srv = server().await;
    let (mut ws, next) = connect(&srv, "").await;
    assert_eq!(next, 1, "from now, on an empty journal");
    srv.publish(50);
    let (got, batches) = ticks(&mut ws, 50).await;
    assert_eq!(seqs(&got), (1..=50).collect::<Vec<_>>());
    assert_eq!(batches, 0, "a stream from now sends one message per tick");
    // Byte-identical to the other transports: what /poll returns for the same seq.
    let (_, poll) = get_json(&format!("{}/poll?since=7&limit=1", srv.url())).await;
    assert_eq!(serde_json::to_value(&got[6]).unwrap(), poll["ticks"][0]);
    drop(ws);

    // Resume from the last seq + 1 after more were published: nothing lost, in batches.
    srv.publish(30);
    let (mut ws, next) = connect(&srv, "?since=51").await;
    assert_eq!(next, 51);
    let (got, batches) = ticks(&mut ws, 30).await;
    assert_eq!(seqs(&got), (51..=80).collect::<Vec<_>>());
    assert!(batches >= 1, "catch-up after since comes in batches");
    // Live again: one message per tick.
    srv.publish(1);
    assert!(matches!(next_down(&mut ws).await, Down::Frame(Frame::Tick(t)) if t.seq == 81));
    srv.shutdown().await;
}

#[tokio::test]
async fn loss_past_the_journal_is_a_gap_message() {
    let srv = server_with(Config {
        rate: 0.0,
        retain: 10,
        ..Config::default()
    })
    .await;
    srv.publish(30);
    let (mut ws, _) = connect(&srv, "?since=5").await;
    match next_down(&mut ws).await {
        Down::Batch(b) => {
            let g = b.gap.expect("the gap rides in the first batch");
            assert_eq!((g.from, g.to), (5, 20));
            assert_eq!(seqs(&b.ticks)[0], 21);
        }
        other => panic!("expected a batch, got {other:?}"),
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn subscribe_and_unsubscribe_change_what_arrives() {
    let srv = server_with(Config {
        rate: 0.0,
        symbols: 5,
        ..Config::default()
    })
    .await;
    let (_, syms) = get_json(&format!("{}/symbols", srv.url())).await;
    let names: Vec<String> = syms["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sym"].as_str().unwrap().to_string())
        .collect();
    let (a, b) = (names[0].clone(), names[1].clone());
    let (mut ws, _) = connect(&srv, &format!("?symbols={a}")).await;

    let sub = Op::Subscribe {
        symbols: vec![b.clone()],
    };
    ws.send(Message::text(sub.encode())).await.unwrap();
    let Down::Ack(ack) = next_down(&mut ws).await else {
        panic!("subscribe is acknowledged");
    };
    assert_eq!(ack.op, OpName::Subscribe);
    let from = ack.next;
    srv.publish(200);
    let want: Vec<u64> = (from..from + 200)
        .filter(|&s| [&a, &b].contains(&&sym_of(&srv, s)))
        .collect();
    let (got, _) = ticks(&mut ws, want.len()).await;
    assert_eq!(seqs(&got), want);

    let unsub = Op::Unsubscribe {
        symbols: vec![a.clone()],
    };
    ws.send(Message::text(unsub.encode())).await.unwrap();
    let Down::Ack(ack) = next_down(&mut ws).await else {
        panic!("unsubscribe is acknowledged");
    };
    srv.publish(200);
    let only_b: Vec<Tick> = {
        let n = (ack.next..ack.next + 200)
            .filter(|&s| sym_of(&srv, s) == b)
            .count();
        ticks(&mut ws, n).await.0
    };
    assert!(only_b.iter().all(|t| t.sym == b));
    assert!(only_b.iter().all(|t| t.seq >= ack.next));

    // An unknown symbol refuses the op with 1008 and a reason.
    let bad = Op::Subscribe {
        symbols: vec!["NOSUCH".into()],
    };
    ws.send(Message::text(bad.encode())).await.unwrap();
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!(code, close::POLICY);
    assert!(reason.contains("NOSUCH"), "{reason}");
    srv.shutdown().await;
}

/// The symbol of the tick with `seq`, from the journal.
fn sym_of(srv: &ServerHandle, seq: u64) -> String {
    let out = srv.journal().read(seq, &SymFilter::all(), 1, 1 << 20);
    serde_json::from_slice::<Tick>(&out.ticks[0].1).unwrap().sym
}

#[tokio::test]
async fn bad_ops_close_with_their_code() {
    let srv = server().await;
    for (msg, want) in [
        (Message::text("not json"), close::INVALID_PAYLOAD),
        (
            Message::text(r#"{"op":"buy","symbols":["A"]}"#),
            close::INVALID_PAYLOAD,
        ),
        (
            Message::text(r#"{"op":"subscribe","symbols":[]}"#),
            close::POLICY,
        ),
        (Message::binary(vec![1, 2, 3]), close::UNSUPPORTED),
    ] {
        let (mut ws, _) = connect(&srv, "").await;
        ws.send(msg.clone()).await.unwrap();
        let (code, reason) = close_of(&mut ws).await;
        assert_eq!(code, want, "{msg:?}: {reason}");
        assert!(!reason.is_empty());
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn bad_query_and_handshakes_get_json_400s() {
    let srv = server().await;
    let (status, body) = get_json(&format!("{}/ws?since=abc", srv.url())).await;
    assert_eq!(status, 400);
    assert_eq!(body["param"], "since");
    let (status, body) = get_json(&format!("{}/ws?symbols=NOSUCH", srv.url())).await;
    assert_eq!(status, 400);
    assert_eq!(body["param"], "symbols");
    // A plain GET, no upgrade.
    let (status, body) = get_json(&format!("{}/ws", srv.url())).await;
    assert_eq!(status, 400, "{body}");
    // An upgrade without Sec-WebSocket-Key.
    let mut tcp = TcpStream::connect(srv.addr()).await.unwrap();
    tcp.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(head.contains("Sec-WebSocket-Key"), "{head}");
    srv.shutdown().await;
}

/// Reads an HTTP answer's head and what of the body came with it.
async fn read_head(tcp: &mut TcpStream) -> String {
    let mut buf = vec![0; 4096];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = timeout(WAIT, tcp.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "closed before the head");
        got.extend_from_slice(&buf[..n]);
    }
    // Give a body in flight a moment to arrive.
    if let Ok(Ok(n)) = timeout(Duration::from_millis(200), tcp.read(&mut buf)).await {
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// A raw WebSocket: the handshake by hand, then frames built byte by byte.
async fn raw(srv: &ServerHandle) -> TcpStream {
    let mut tcp = TcpStream::connect(srv.addr()).await.unwrap();
    tcp.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .unwrap();
    // Read exactly the 101 head, byte by byte, so no frame is consumed with it.
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        timeout(WAIT, tcp.read_exact(&mut b))
            .await
            .unwrap()
            .unwrap();
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    tcp
}

/// One client frame: FIN as given, `opcode`, masked unless `mask` is false.
fn frame(fin: bool, opcode: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut f = vec![(fin as u8) << 7 | opcode];
    let m = (mask as u8) << 7;
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n <= 0xffff => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x12, 0x34, 0x56, 0x78];
    if mask {
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

/// Reads server frames (unmasked) until a close frame: its code and reason.
async fn raw_close(tcp: &mut TcpStream) -> (u16, String) {
    loop {
        let mut h = [0u8; 2];
        timeout(WAIT, tcp.read_exact(&mut h))
            .await
            .expect("a frame in time")
            .expect("a close frame before the end");
        let len = match h[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                tcp.read_exact(&mut l).await.unwrap();
                u16::from_be_bytes(l) as usize
            }
            127 => {
                let mut l = [0u8; 8];
                tcp.read_exact(&mut l).await.unwrap();
                u64::from_be_bytes(l) as usize
            }
            n => n as usize,
        };
        assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
        let mut p = vec![0; len];
        tcp.read_exact(&mut p).await.unwrap();
        if h[0] & 0x0f == 0x8 {
            let code = u16::from_be_bytes([p[0], p[1]]);
            return (code, String::from_utf8(p[2..].to_vec()).unwrap());
        }
    }
}

#[tokio::test]
async fn bad_frames_close_with_their_code() {
    let srv = server().await;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked", frame(true, 0x1, b"{}", false), close::PROTOCOL),
        ("bad opcode", frame(true, 0x3, b"x", true), close::PROTOCOL),
        (
            "invalid UTF-8",
            frame(true, 0x1, b"\xff\xfe", true),
            close::INVALID_PAYLOAD,
        ),
        (
            "oversized",
            frame(true, 0x1, &vec![b' '; 20 * 1024], true),
            close::TOO_BIG,
        ),
        (
            "fragmented ping",
            frame(false, 0x9, b"x", true),
            close::PROTOCOL,
        ),
        (
            "oversized in fragments",
            [
                frame(false, 0x1, &vec![b' '; 10 * 1024], true),
                frame(true, 0x0, &vec![b' '; 10 * 1024], true),
            ]
            .concat(),
            close::TOO_BIG,
        ),
    ];
    for (what, bytes, want) in cases {
        let mut tcp = raw(&srv).await;
        tcp.write_all(&bytes).await.unwrap();
        let (code, reason) = raw_close(&mut tcp).await;
        assert_eq!(code, want, "{what}: {reason}");
        assert!(!reason.is_empty(), "{what}");
    }
    // The server is unharmed.
    let (mut ws, _) = connect(&srv, "").await;
    srv.publish(1);
    assert!(matches!(
        next_down(&mut ws).await,
        Down::Frame(Frame::Tick(_))
    ));
    srv.shutdown().await;
}

#[tokio::test]
async fn shutdown_sends_bye_then_close_1001() {
    let srv = server().await;
    let (mut ws, _) = connect(&srv, "").await;
    srv.publish(1);
    let _ = ticks(&mut ws, 1).await;
    let reader = tokio::spawn(async move {
        let bye = next_down(&mut ws).await;
        let close = close_of(&mut ws).await;
        (bye, close)
    });
    srv.shutdown().await;
    let (bye, (code, reason)) = reader.await.unwrap();
    assert_eq!(bye, Down::Frame(Control::bye().into()));
    assert_eq!(code, u16::from(CloseCode::Away));
    assert_eq!(reason, Control::BYE_REASON);
}

#[tokio::test]
async fn a_client_that_answers_no_ping_is_closed() {
    let srv = server_with(Config {
        rate: 0.0,
        heartbeat: Duration::from_millis(100),
        ..Config::default()
    })
    .await;
    // A raw socket never answers pings.
    let mut tcp = raw(&srv).await;
    let (code, reason) = raw_close(&mut tcp).await;
    assert_eq!(code, close::POLICY);
    assert!(reason.contains("ping"), "{reason}");
    // A real client answers them (while it reads) and stays.
    let (mut ws, _) = connect(&srv, "").await;
    let until = tokio::time::Instant::now() + Duration::from_millis(600);
    while let Ok(m) = tokio::time::timeout_at(until, ws.next()).await {
        assert!(
            matches!(m, Some(Ok(Message::Text(_) | Message::Ping(_)))),
            "{m:?}"
        );
    }
    srv.publish(1);
    let (got, _) = ticks(&mut ws, 1).await;
    assert_eq!(got.len(), 1);
    srv.shutdown().await;
}
