//! `--debug-slow`: the slowed transport's ticks arrive later than another transport's from the
//! same server, and none is lost.

use std::collections::BTreeMap;
use std::time::Duration;

use tickbench_server::slowdown::Slowdown;
use tickbench_server::Config;
use tickbench_wire::{now_micros, Tick};

use crate::common::*;

/// Reads `path` until `n` ticks arrived; returns seq → latency (µs from the tick's `ts` to the
/// arrival of the chunk that completed its line).
async fn latencies(url: String, n: usize) -> BTreeMap<u64, u64> {
    let mut resp = client().get(url).send().await.expect("stream request");
    assert_eq!(resp.status().as_u16(), 200);
    let (mut buf, mut out) = (String::new(), BTreeMap::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while out.len() < n {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("ticks in time")
            .expect("stream read")
            .expect("stream open");
        let at = now_micros();
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(i) = buf.find('\n') {
            let line: String = buf.drain(..=i).collect();
            // NDJSON lines and SSE `data:` lines both carry the tick's JSON.
            let json = line.strip_prefix("data: ").unwrap_or(&line).trim();
            if let Ok(t) = serde_json::from_str::<Tick>(json) {
                out.insert(t.seq, at.saturating_sub(t.ts));
            }
        }
    }
    out
}

fn median(v: &BTreeMap<u64, u64>) -> u64 {
    let mut l: Vec<u64> = v.values().copied().collect();
    l.sort_unstable();
    l[l.len() / 2]
}

#[tokio::test]
async fn a_slowed_transport_is_later_and_loses_nothing() {
    let s = server_with(Config {
        rate: 50.0,
        symbols: 20,
        debug_slow: vec!["sse=10".parse::<Slowdown>().unwrap()],
        ..Config::default()
    })
    .await;
    let n = 40;
    let (sse, stream) = tokio::join!(
        latencies(format!("{}/sse", s.url()), n),
        latencies(format!("{}/stream", s.url()), n),
    );
    // Nothing lost: the slowed stream's ticks are consecutive (every symbol is watched).
    let seqs: Vec<u64> = sse.keys().copied().collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "sse lost ticks: {seqs:?}"
    );
    let (a, b) = (median(&sse), median(&stream));
    eprintln!("median latency: sse (slowed 10×) {a} µs, stream {b} µs");
    assert!(
        a > b + b / 2,
        "sse slowed 10× should be well behind the unslowed stream: median {a} µs vs {b} µs"
    );
}
