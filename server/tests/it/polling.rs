use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tickbench_wire::{Batch, OrderResponse, QuoteResponse, Snapshot, Symbols, Tick};

use crate::common::*;

#[tokio::test]
async fn poll_delivers_in_order_with_cursors() {
    let s = server().await;
    assert_eq!(s.publish(5), 5);
    let r = client()
        .get(format!("{}/poll?since=1", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let b: Batch = r.json().await.unwrap();
    assert_eq!(
        b.ticks.iter().map(|t| t.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(b.next, 6);
    assert!(b.gap.is_none());

    // limit cuts short: next is one past the last returned.
    let (_, v) = get_json(&format!("{}/poll?since=2&limit=2", s.url())).await;
    let b: Batch = serde_json::from_value(v).unwrap();
    assert_eq!(b.ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(b.next, 4);

    // since=0 is the oldest retained; no since is "from now".
    let (_, v) = get_json(&format!("{}/poll?since=0", s.url())).await;
    assert_eq!(v["ticks"].as_array().unwrap().len(), 5);
    let (_, v) = get_json(&format!("{}/poll", s.url())).await;
    assert_eq!(v["next"], 6);
    assert_eq!(v["ticks"], json!([]));

    // A quiet watchlist still advances through everything scanned.
    s.publish(50);
    let (_, v) = get_json(&format!("{}/poll?since=6&symbols=SPOT", s.url())).await;
    assert_eq!(v["next"], 56);
    for t in v["ticks"].as_array().unwrap() {
        assert_eq!(t["sym"], "SPOT");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn per_symbol_sseq_counts_up_by_one() {
    let s = server().await;
    s.publish(300);
    let (_, v) = get_json(&format!("{}/poll?since=1&symbols=AAPL,NVDA", s.url())).await;
    let b: Batch = serde_json::from_value(v).unwrap();
    assert!(b.ticks.len() > 10);
    for sym in ["AAPL", "NVDA"] {
        let ss: Vec<u64> = b
            .ticks
            .iter()
            .filter(|t| t.sym == sym)
            .map(|t| t.sseq)
            .collect();
        assert_eq!(ss, (1..=ss.len() as u64).collect::<Vec<_>>());
    }
    for t in &b.ticks {
        assert!(t.bid < t.last && t.last < t.ask);
    }
    s.shutdown().await;
}

#[tokio::test]
async fn gap_when_cursor_falls_out_of_the_journal() {
    let s = server_with(tickbench_server::Config {
        rate: 0.0,
        retain: 10,
        ..Default::default()
    })
    .await;
    s.publish(30);
    let (_, v) = get_json(&format!("{}/poll?since=5", s.url())).await;
    let b: Batch = serde_json::from_value(v).unwrap();
    assert_eq!(b.gap, Some(tickbench_wire::Gap { from: 5, to: 20 }));
    assert_eq!(b.ticks.first().unwrap().seq, 21);
    assert_eq!(b.next, 31);
    // since=0 is "oldest retained": no gap.
    let (_, v) = get_json(&format!("{}/poll?since=0", s.url())).await;
    assert_eq!(v["gap"], Value::Null);
    assert_eq!(v["ticks"][0]["seq"], 21);
    s.shutdown().await;
}

#[tokio::test]
async fn jsonp_wraps_the_batch() {
    let s = server().await;
    s.publish(3);
    let r = client()
        .get(format!("{}/poll?since=1&callback=my.cb_1", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let text = r.text().await.unwrap();
    let inner = text
        .strip_prefix("my.cb_1(")
        .and_then(|t| t.strip_suffix(");"))
        .unwrap_or_else(|| panic!("not JSONP: {text}"));
    let b: Batch = serde_json::from_str(inner).unwrap();
    assert_eq!(b.ticks.len(), 3);
    assert_eq!(b.next, 4);
    s.shutdown().await;
}

#[tokio::test]
async fn piggyback_quote_and_order() {
    let s = server().await;
    s.publish(100);
    let (st, v) = get_json(&format!("{}/api/quote/AAPL?since=90", s.url())).await;
    assert_eq!(st, 200);
    let q: QuoteResponse = serde_json::from_value(v).unwrap();
    assert_eq!(q.quote.sym, "AAPL");
    assert!(q.quote.sseq > 0 && q.quote.volume > 0);
    assert_eq!(q.ticks.first().unwrap().seq, 90);
    assert_eq!(q.next, 101);

    let (st, v) = get_json(&format!("{}/api/quote/NOPE", s.url())).await;
    assert_eq!(st, 404);
    assert!(v["error"].as_str().unwrap().contains("NOPE"));

    let r = client()
        .post(format!("{}/api/orders?since=100", s.url()))
        .json(&json!({"sym":"AAPL","side":"buy","qty":100,"limit":189.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let o: OrderResponse = r.json().await.unwrap();
    assert_eq!(o.order.id, 1);
    assert_eq!(o.order.status, "accepted");
    assert_eq!(o.order.limit, Some(189.5));
    assert_eq!(o.ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), [100]);
    assert_eq!(o.next, 101);
    s.shutdown().await;
}

#[tokio::test]
async fn longpoll_returns_early_when_a_tick_arrives() {
    let s = server().await;
    let url = format!("{}/longpoll?since=1&timeout=30", s.url());
    let req = tokio::spawn(async move { get_json(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!req.is_finished(), "long-poll answered before any tick");
    s.publish(2);
    let (st, v) = tokio::time::timeout(Duration::from_secs(10), req)
        .await
        .expect("long-poll did not return after the tick")
        .unwrap();
    assert_eq!(st, 200);
    let b: Batch = serde_json::from_value(v).unwrap();
    assert!(!b.ticks.is_empty());
    assert_eq!(b.ticks[0].seq, 1);
    assert_eq!(b.next, 1 + b.ticks.len() as u64);
    s.shutdown().await;
}

#[tokio::test]
async fn longpoll_times_out_empty_with_advanced_cursor() {
    let s = server().await;
    s.publish(20);
    // Watch a symbol that did not tick in the first 20 (the tail of the Zipf curve).
    let (_, v) = get_json(&format!("{}/poll?since=1", s.url())).await;
    let seen: Vec<String> = v["ticks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["sym"].as_str().unwrap().to_string())
        .collect();
    let (_, syms) = get_json(&format!("{}/symbols", s.url())).await;
    let syms: Symbols = serde_json::from_value(syms).unwrap();
    let quiet = syms
        .symbols
        .iter()
        .rev()
        .find(|x| !seen.contains(&x.sym))
        .unwrap()
        .sym
        .clone();
    let t0 = Instant::now();
    let (st, v) = get_json(&format!(
        "{}/longpoll?since=1&timeout=1&symbols={quiet}",
        s.url()
    ))
    .await;
    assert_eq!(st, 200);
    assert!(t0.elapsed() >= Duration::from_millis(900));
    assert_eq!(v["ticks"], json!([]));
    assert_eq!(v["next"], 21);
    s.shutdown().await;
}

#[tokio::test]
async fn snapshot_symbols_health_metrics() {
    let s = server().await;
    s.publish(40);
    let (_, v) = get_json(&format!("{}/snapshot?symbols=AAPL,MSFT", s.url())).await;
    let snap: Snapshot = serde_json::from_value(v).unwrap();
    assert_eq!(snap.next, 41);
    assert_eq!(snap.quotes.len(), 2);
    let (_, v) = get_json(&format!("{}/poll?since=1&symbols=AAPL", s.url())).await;
    let ticks: Vec<Tick> = serde_json::from_value(v["ticks"].clone()).unwrap();
    if let Some(last) = ticks.last() {
        assert_eq!(snap.quotes[0].sseq, last.sseq);
        assert_eq!(snap.quotes[0].last, last.last);
    }

    let (_, v) = get_json(&format!("{}/symbols", s.url())).await;
    let syms: Symbols = serde_json::from_value(v).unwrap();
    assert_eq!(syms.symbols.len(), 500);
    assert_eq!(syms.symbols[0].sym, "AAPL");
    let w: f64 = syms.symbols.iter().map(|x| x.weight).sum();
    assert!((w - 1.0).abs() < 1e-6);
    assert!(syms.symbols.windows(2).all(|p| p[0].weight >= p[1].weight));

    let (_, v) = get_json(&format!("{}/healthz", s.url())).await;
    assert_eq!(v["status"], "ok");
    assert_eq!(v["next"], 41);

    // `None`: the sample only has to be there.
    for (key, want) in [
        ("tickbench_open_connections", None),
        ("tickbench_journal_ticks", Some(40)),
        ("tickbench_generator_lag_seconds", None),
        ("tickbench_requests_total{endpoint=\"poll\"}", Some(1)),
        ("tickbench_deliveries_total{transport=\"poll\"}", None),
        ("tickbench_bytes_total{transport=\"sse\"}", Some(0)),
    ] {
        let got = metric(&s.url(), key).await;
        if let Some(want) = want {
            assert_eq!(got, want, "metric {key}");
        }
    }
    s.shutdown().await;
}
