//! The golden sequence: the first ticks of seed 1 at the default rate and symbol count, pinned
//! value by value, and a digest of the first 100,000. Any change to the market model, the
//! reference table or the random-number crates (their algorithms, or how a seed is expanded)
//! that changes what a seed produces fails here; if the change is meant, update the pins and bump
//! `tickbench_wire::SCHEMA_VERSION`, since runs before and after no longer measured the same
//! stream. Pinned on x86_64 Linux: the walk uses `exp`/`ln` of the platform's libm.

use tickbench_server::market::{Market, Universe};

/// (scheduled offset µs, symbol, bid, ask, last in cents, size) of seed 1's first ticks at the
/// default 100 ticks/s over 500 symbols.
const FIRST: &[(u64, &str, u64, u64, u64, u32)] = &[
    (4469, "AAPL", 20999, 21001, 21000, 70),
    (5985, "NIO", 399, 401, 400, 200),
    (43314, "RIVN", 1299, 1301, 1300, 200),
    (46788, "TSLA", 31999, 32001, 32000, 100),
    (53037, "KZIM", 32567, 32595, 32581, 69),
    (55544, "AMD", 12995, 12997, 12996, 16),
    (57023, "BAC", 4499, 4501, 4500, 83),
    (61604, "UDIP", 70626, 70726, 70676, 2),
    (69437, "RBLX", 9497, 9503, 9500, 9),
    (99318, "AAPL", 21000, 21002, 21001, 200),
    (132259, "AKCV", 15221, 15227, 15224, 300),
    (171022, "META", 65004, 65010, 65007, 22),
    (173322, "F", 1099, 1101, 1100, 200),
    (186097, "PHZ", 6594, 6604, 6599, 400),
    (187193, "PFE", 2399, 2401, 2400, 92),
    (193413, "PFE", 2399, 2401, 2400, 83),
    (205294, "QQQ", 51997, 51999, 51998, 200),
    (213059, "WMT", 9698, 9700, 9699, 300),
    (215588, "NVDA", 14000, 14002, 14001, 200),
    (217613, "YZME", 232, 234, 233, 2800),
];

/// FNV-1a over (offset µs, sym, bid, ask, last, size) of the first [`DIGEST_TICKS`] ticks.
const DIGEST: u64 = 0x17ad_a895_45cb_530a;
const DIGEST_TICKS: usize = 100_000;

fn market() -> (Universe, Market) {
    let u = Universe::new(500, 1);
    let m = Market::new(&u, 1, 100.0);
    (u, m)
}

fn fnv(h: &mut u64, v: u64) {
    for b in v.to_le_bytes() {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
}

#[test]
fn seed_1_golden_sequence() {
    let (u, mut m) = market();
    let got: Vec<(u64, String, u64, u64, u64, u32)> = (0..FIRST.len().max(20))
        .map(|_| {
            let (at, t) = m.next_scheduled().unwrap();
            let sym = u.name(t.sym).to_string();
            ((at * 1e6) as u64, sym, t.bid_c, t.ask_c, t.last_c, t.size)
        })
        .collect();
    let (_, mut m) = market();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for _ in 0..DIGEST_TICKS {
        let (at, t) = m.next_scheduled().unwrap();
        for v in [
            (at * 1e6) as u64,
            u64::from(t.sym),
            t.bid_c,
            t.ask_c,
            t.last_c,
            u64::from(t.size),
        ] {
            fnv(&mut h, v);
        }
    }
    let shown: String = got
        .iter()
        .map(|(at, s, b, a, l, z)| format!("    ({at}, {s:?}, {b}, {a}, {l}, {z}),\n"))
        .collect();
    let want: Vec<(u64, String, u64, u64, u64, u32)> = FIRST
        .iter()
        .map(|&(at, s, b, a, l, z)| (at, s.to_string(), b, a, l, z))
        .collect();
    assert_eq!(
        got[..FIRST.len()],
        want[..],
        "seed 1's stream changed; now:\n{shown}digest {h:#018x}"
    );
    assert_eq!(
        h, DIGEST,
        "seed 1's digest changed; first ticks now:\n{shown}digest {h:#018x}"
    );
}
