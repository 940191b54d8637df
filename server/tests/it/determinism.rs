use tickbench_server::market::{Market, Universe};

use crate::common::*;

fn sequence(seed: u64, rate: f64, n: usize) -> Vec<(f64, u32, u64, u64, u64, u32)> {
    let u = Universe::new(500, seed);
    let mut m = Market::new(&u, seed, rate);
    (0..n)
        .map(|_| {
            let (at, t) = m.next_scheduled().unwrap();
            (at, t.sym, t.bid_c, t.ask_c, t.last_c, t.size)
        })
        .collect()
}

#[test]
fn same_seed_and_rate_same_sequence() {
    let a = sequence(42, 1000.0, 5_000);
    let b = sequence(42, 1000.0, 5_000);
    assert_eq!(a, b);
    let c = sequence(43, 1000.0, 5_000);
    assert_ne!(a, c);
    // Popularity is Zipf-like: the top symbol ticks far more than the median one.
    let top = a.iter().filter(|t| t.1 == 0).count();
    let mid = a.iter().filter(|t| t.1 == 250).count();
    assert!(top > 20 * mid.max(1), "top {top} vs mid {mid}");
}

#[tokio::test]
async fn servers_with_same_seed_publish_same_ticks() {
    let strip = |v: &serde_json::Value| {
        v["ticks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["sym"].clone(),
                    t["bid"].clone(),
                    t["ask"].clone(),
                    t["last"].clone(),
                    t["size"].clone(),
                    t["sseq"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut runs = Vec::new();
    for seed in [7, 7, 8] {
        let s = server_with(tickbench_server::Config {
            rate: 0.0,
            seed,
            ..Default::default()
        })
        .await;
        s.publish(200);
        let (_, v) = get_json(&format!("{}/poll?since=1", s.url())).await;
        runs.push(strip(&v));
        s.shutdown().await;
    }
    assert_eq!(runs[0].len(), 200);
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0], runs[2]);
}
