//! The market a user sees: built-in symbols at their reference quotes (SPY near its reference,
//! not a random $10), and the opening burst (`--open-burst`) that trades the first seconds at
//! many times the rate while staying a pure function of the seed and epoch.

use std::time::Duration;

use clap::Parser;
use serde_json::Value;
use tickbench_server::market::reference;
use tickbench_server::market::{Market, OpenBurst, Pacing, Universe};
use tickbench_server::{Config, ServeOpts};
use tickbench_wire::now_micros;

use crate::common::*;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeOpts,
}

fn reference_price(sym: &str) -> f64 {
    reference::table()
        .into_iter()
        .find(|r| r.sym == sym)
        .unwrap_or_else(|| panic!("{sym} is in the reference table"))
        .price
}

#[tokio::test]
async fn built_in_symbols_trade_near_their_reference_prices() {
    let s = server().await;
    let (_, syms) = get_json(&format!("{}/symbols", s.url())).await;
    let listed = |sym: &str| -> f64 {
        syms["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["sym"] == sym)
            .and_then(|v| v["price"].as_f64())
            .unwrap()
    };
    assert_eq!(listed("SPY"), 590.0);
    assert_eq!(listed("TSLA"), reference_price("TSLA"));
    // A simulated session's worth of ticks later, they are still in their neighbourhood.
    s.publish(20_000);
    let (_, snap) = get_json(&format!("{}/snapshot?symbols=SPY,TSLA,AAPL,BKNG", s.url())).await;
    for q in snap["quotes"].as_array().unwrap() {
        let sym = q["sym"].as_str().unwrap();
        let (last, open) = (q["last"].as_f64().unwrap(), q["open"].as_f64().unwrap());
        let want = reference_price(sym);
        assert_eq!(open, want, "{sym} opens at its reference price");
        assert!(
            (last / want - 1.0).abs() < 0.1,
            "{sym} at {last}, reference {want}"
        );
        assert!(q["sseq"].as_u64().unwrap() > 0, "{sym} traded");
        // Spreads of a few cents, not a percent of the price.
        let spread = q["ask"].as_f64().unwrap() - q["bid"].as_f64().unwrap();
        assert!(
            spread > 0.0 && spread < want * 0.002,
            "{sym} spread {spread}"
        );
    }
    s.shutdown().await;
}

/// Offsets (µs) of the first `n` scheduled ticks of seed 5 at 100 ticks/s.
fn schedule(burst: Option<OpenBurst>, n: usize) -> Vec<(u64, u32, u64, u32)> {
    let u = Universe::new(500, 5);
    let mut m = Market::paced(&u, 5, Pacing { rate: 100.0, burst });
    (0..n)
        .map(|_| {
            let (at, t) = m.next_scheduled().unwrap();
            ((at * 1e6) as u64, t.sym, t.last_c, t.size)
        })
        .collect()
}

#[test]
fn the_open_burst_raises_the_first_seconds_rate_deterministically() {
    let burst = OpenBurst {
        factor: 10.0,
        duration: Duration::from_secs(5),
    };
    let a = schedule(Some(burst), 20_000);
    assert_eq!(a, schedule(Some(burst), 20_000), "same seed, same burst");
    let in_window = |v: &[(u64, u32, u64, u32)], from_s: u64, to_s: u64| {
        v.iter()
            .filter(|t| t.0 >= from_s * 1_000_000 && t.0 < to_s * 1_000_000)
            .count()
    };
    let (open, after) = (in_window(&a, 0, 5), in_window(&a, 5, 10));
    // ~5,000 ticks in the burst's 5 s, ~500 in the next 5 s.
    assert!((4_500..5_500).contains(&open), "burst: {open}");
    assert!((400..600).contains(&after), "after: {after}");
    let steady = schedule(None, 2_000);
    assert!((400..600).contains(&in_window(&steady, 0, 5)));
    // The burst only moves times: the same draws pick the same symbols.
    let syms = |v: &[(u64, u32, u64, u32)]| v.iter().map(|t| t.1).take(500).collect::<Vec<_>>();
    assert_eq!(syms(&a), syms(&steady));
}

/// Every tick of `url`'s journal (one `/poll` page holds them all here).
async fn all_ticks(url: &str) -> Vec<Value> {
    let (st, v) = get_json(&format!("{url}/poll?since=1&limit=100000")).await;
    assert_eq!(st, 200);
    v["ticks"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_server_with_an_open_burst_replays_the_same_busy_open() {
    // The session opened 2.5 s ago: the server replays its first seconds at startup, so what it
    // holds is fixed by (seed, rate, burst, epoch) whatever the machine's speed.
    let epoch = now_micros() - 2_500_000;
    let cfg = || Config {
        rate: 200.0,
        seed: 3,
        open_burst: Some(OpenBurst {
            factor: 20.0,
            duration: Duration::from_secs(1),
        }),
        epoch_us: Some(epoch),
        ..Config::default()
    };
    let a = server_with(cfg()).await;
    let ticks = all_ticks(&a.url()).await;
    a.shutdown().await;
    let second = |k: u64| {
        ticks
            .iter()
            .filter(|t| (t["ts"].as_u64().unwrap() - epoch) / 1_000_000 == k)
            .count()
    };
    let (open, next) = (second(0), second(1));
    assert!(open > 10 * next, "first second {open} ticks, next {next}");
    assert!((3_400..4_600).contains(&open), "{open}");
    let b = server_with(cfg()).await;
    let again = all_ticks(&b.url()).await;
    b.shutdown().await;
    let n = open + next;
    assert_eq!(
        ticks[..n],
        again[..n],
        "same seed, burst and epoch: same ticks"
    );
}

#[test]
fn open_burst_flag_forms() {
    let parse = |args: &[&str]| {
        Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map(|c| c.serve.config().open_burst)
    };
    assert_eq!(parse(&[]).unwrap(), None);
    assert_eq!(
        parse(&["--open-burst"]).unwrap(),
        Some(OpenBurst::default())
    );
    assert_eq!(
        parse(&["--open-burst", "50x2s"]).unwrap(),
        Some(OpenBurst {
            factor: 50.0,
            duration: Duration::from_secs(2)
        })
    );
    let e = parse(&["--open-burst", "fast"]).unwrap_err().to_string();
    assert!(e.contains("FACTORxDURATION"), "{e}");
    // Over the rate limit once multiplied: refused when the server is configured.
    let cfg = Cli::try_parse_from(["serve", "--rate", "500000", "--open-burst", "10x1s"])
        .unwrap()
        .serve
        .config();
    assert!(cfg
        .validate()
        .unwrap_err()
        .to_string()
        .contains("open-burst"));
}
