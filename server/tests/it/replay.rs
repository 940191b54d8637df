//! `tickbench serve --replay FILE.csv`: a recorded quote tape played through the transports with
//! seq/sseq assigned as for simulated ticks, at 1× or N× speed, deterministically for a given
//! tape, speed and epoch; a bad line is refused with its line number.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use clap::Parser;
use tickbench_server::{Config, ServeOpts};
use tickbench_wire::{now_micros, Tick};

use crate::common::*;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeOpts,
}

/// A small tape: 3 symbols, 9 quotes over 0.8 s, two at the same instant.
const TAPE: &str = "\
# recorded 2025-06-02
ts,sym,bid,ask,last,size
09:30:00.000000,SPY,589.98,590.02,590.00,300
09:30:00.100000,AAPL,209.99,210.01,210.00,100
09:30:00.100000,SPY,589.99,590.03,590.01,200
09:30:00.250000,TSLA,319.95,320.05,320.00,50
09:30:00.300000,SPY,590.00,590.04,590.02,100
09:30:00.450000,AAPL,210.00,210.02,210.01,75
09:30:00.600000,SPY,590.01,590.05,590.03,400
09:30:00.700000,TSLA,319.90,320.00,319.95,10
09:30:00.800000,SPY,590.02,590.06,590.04,100
";

/// (offset µs, sym, bid, ask, last, size) of [`TAPE`].
fn tape_rows() -> Vec<(u64, String, f64, f64, f64, u32)> {
    TAPE.lines()
        .filter(|l| l.starts_with("09:"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let us = f[0][9..].replace('.', "").parse::<u64>().unwrap();
            (
                us,
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
                f[4].parse().unwrap(),
                f[5].parse().unwrap(),
            )
        })
        .collect()
}

/// Writes `text` to a fresh file in the temp directory.
fn write_tape(text: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "tickbench-tape-{}-{}.csv",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// The config `tickbench serve --replay FILE [args]` gives.
fn replay_config(path: &std::path::Path, args: &[&str]) -> Result<Config, String> {
    let mut argv = vec!["serve", "--replay", path.to_str().unwrap()];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    cli.serve.load_config().map_err(|e| e.to_string())
}

async fn poll_ticks(url: &str, want: usize) -> Vec<Tick> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = get_json(&format!("{url}/poll?since=1")).await;
        let ticks: Vec<Tick> = serde_json::from_value(v["ticks"].clone()).unwrap();
        if ticks.len() >= want {
            return ticks;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {want} ticks",
            ticks.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sse_ticks(text: &str) -> Vec<(u64, Tick)> {
    text.split("\n\n")
        .filter_map(|e| {
            let id = e.lines().find_map(|l| l.strip_prefix("id: "))?;
            let data = e.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((id.parse().unwrap(), serde_json::from_str(data).unwrap()))
        })
        .collect()
}

#[tokio::test]
async fn a_tape_replays_through_poll_and_sse_with_seq_and_sseq() {
    let path = write_tape(TAPE);
    let cfg = replay_config(&path, &["--replay-speed", "4"]).unwrap();
    let s = server_with(cfg).await;
    let epoch = s.epoch_us();
    let rows = tape_rows();

    // The universe is the tape's, most active first, at their first prices.
    let (_, syms) = get_json(&format!("{}/symbols", s.url())).await;
    let listed: Vec<(&str, f64)> = syms["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["sym"].as_str().unwrap(), v["price"].as_f64().unwrap()))
        .collect();
    assert_eq!(listed, [("SPY", 590.0), ("AAPL", 210.0), ("TSLA", 320.0)]);

    let mut sse = StreamReader::open(&format!("{}/sse?since=1", s.url())).await;
    let ticks = poll_ticks(&s.url(), rows.len()).await;
    let mut sseq = std::collections::HashMap::new();
    for (i, (t, row)) in ticks.iter().zip(&rows).enumerate() {
        let n = sseq.entry(row.1.clone()).or_insert(0u64);
        *n += 1;
        assert_eq!(t.seq, i as u64 + 1);
        assert_eq!(t.sseq, *n, "{t:?}");
        assert_eq!(
            (&t.sym, t.bid, t.ask, t.last, t.size),
            (&row.1, row.2, row.3, row.4, row.5)
        );
        // Scheduled at the tape's offset from its first tick, four times faster.
        assert_eq!(t.ts, epoch + row.0 / 4, "{t:?}");
    }
    sse.until("every tick", |t| sse_ticks(t).len() >= rows.len())
        .await;
    let by_sse = sse_ticks(&sse.text());
    assert_eq!(
        by_sse.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        (1..=rows.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(
        by_sse.into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
        ticks
    );
    // The tape is over: nothing more is published.
    let (_, h) = get_json(&format!("{}/healthz", s.url())).await;
    assert_eq!(h["next"], rows.len() as u64 + 1);
    s.shutdown().await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn speed_divides_the_tape_time() {
    // Two quotes 30 s apart: at 1× the second is not due for 30 s, at 1000× it is due 30 ms in.
    let path = write_tape("0,A,1.00,1.02,1.01,1\n30000000,A,1.01,1.03,1.02,1\n");
    let slow = server_with(replay_config(&path, &[]).unwrap()).await;
    let first = poll_ticks(&slow.url(), 1).await;
    assert_eq!(first.len(), 1, "the second quote is 30 s away");
    assert_eq!(first[0].ts, slow.epoch_us());
    slow.shutdown().await;
    let fast = server_with(replay_config(&path, &["--replay-speed", "1000x"]).unwrap()).await;
    let both = poll_ticks(&fast.url(), 2).await;
    assert_eq!(both[1].ts - both[0].ts, 30_000);
    assert_eq!((both[1].seq, both[1].sseq), (2, 2));
    fast.shutdown().await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn the_same_tape_speed_and_epoch_give_the_same_stream() {
    let path = write_tape(TAPE);
    let epoch = now_micros() - 1_000_000;
    let run = || async {
        let mut cfg = replay_config(&path, &["--replay-speed", "2"]).unwrap();
        cfg.epoch_us = Some(epoch);
        let s = server_with(cfg).await;
        let (_, v) = get_json(&format!("{}/poll?since=1", s.url())).await;
        s.shutdown().await;
        v["ticks"].clone()
    };
    let (a, b) = (run().await, run().await);
    assert_eq!(a.as_array().map(Vec::len), Some(9));
    assert_eq!(a, b);
    let _ = std::fs::remove_file(path);
}

#[test]
fn bad_tapes_are_refused_naming_the_line() {
    let path = write_tape(
        "ts,sym,bid,ask,last,size\n1,SPY,590.00,590.02,590.01,100\n2,SPY,590.00,589.00,590.01,100\n",
    );
    let e = replay_config(&path, &[]).unwrap_err();
    assert!(
        e.contains(path.to_str().unwrap()) && e.contains("line 3: bid 590.00 is above ask 589.00"),
        "{e}"
    );
    let _ = std::fs::remove_file(&path);
    let missing = replay_config(std::path::Path::new("/nonexistent/tape.csv"), &[]).unwrap_err();
    assert!(
        missing.contains("cannot read tape /nonexistent/tape.csv"),
        "{missing}"
    );
    // The tape fixes the symbols and the rate: simulation flags are refused with it.
    let path = write_tape(TAPE);
    for flags in [
        &["--seed", "2"][..],
        &["--rate", "10"],
        &["--open-burst"],
        &["--replay-speed", "0"],
    ] {
        assert!(replay_config(&path, flags).is_err(), "{flags:?}");
    }
    let _ = std::fs::remove_file(path);
    // --replay-speed alone needs a tape.
    assert!(Cli::try_parse_from(["serve", "--replay-speed", "2"]).is_err());
}

#[test]
fn the_replay_rate_is_the_tapes() {
    let path = write_tape(TAPE);
    let cfg = replay_config(&path, &["--replay-speed", "2"]).unwrap();
    // 9 quotes over 0.8 s at 2× speed.
    assert!((cfg.rate - 9.0 / 0.4).abs() < 1e-9, "{}", cfg.rate);
    assert_eq!(cfg.replay.map(|r| r.tape.ticks().len()), Some(9));
    let _ = std::fs::remove_file(path);
}
