//! The simulated market: a fixed universe of symbols and a seeded random walk over them.
//!
//! The built-in symbols open at the reference prices of a committed table ([`reference`]) and
//! move with its volatilities, trade sizes and spreads; symbols beyond the table get seeded
//! random ones. Everything random comes from one [`ChaCha8Rng`] seeded with `--seed` (ChaCha's
//! output is specified, so the stream does not change between platforms; `tests/it/golden.rs`
//! pins its first ticks so a dependency upgrade cannot change it unnoticed). The Poisson
//! inter-arrival times are drawn from the same generator ([`pacing`] turns each draw into a time,
//! with the optional opening burst), and prices depend only on those drawn times, never on the
//! wall clock: the same seed and pacing always give the same sequence of (symbol, prices, size),
//! however late the generator thread runs.

pub mod pacing;
pub mod reference;

use std::collections::HashMap;

use rand::distr::weighted::WeightedIndex;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

pub use pacing::{OpenBurst, Pacing};
use reference::Reference;

/// Trading seconds in a year (252 days × 6.5 h): volatilities are annualised as quoted in
/// practice, and simulated time runs [`TIME_SCALE`] times faster so a ticker visibly moves.
const TRADING_YEAR_S: f64 = 252.0 * 6.5 * 3600.0;
/// How much faster than real time the simulated market moves.
const TIME_SCALE: f64 = 10.0;
/// Zipf exponent of symbol popularity: 1.0 gives the top symbol ~15 % of 500 symbols' ticks.
const ZIPF_S: f64 = 1.0;
/// Mixed into the seed for the universe's own RNG stream, so building the universe does not
/// consume draws of the tick stream.
const UNIVERSE_STREAM: u64 = 0x5eed_0f5b_a11d_u64;

/// Mean trade size (shares) of a symbol beyond the reference table, from its price: about
/// $20,000 a trade, within 10..800 shares.
fn default_trade_size(price: f64) -> f64 {
    (20_000.0 / price).clamp(10.0, 800.0)
}

/// Trades of at least this many shares print in round lots (multiples of 100).
const ROUND_LOT_FROM: f64 = 100.0;
/// Largest single trade, shares.
const MAX_TRADE: f64 = 1_000_000.0;

/// One symbol of the universe. Fixed for the server's lifetime.
#[derive(Debug, Clone)]
pub struct SymbolSpec {
    pub name: String,
    /// Share of all ticks (the weights sum to 1).
    pub weight: f64,
    /// Price the session opens at.
    pub start_price: f64,
    /// Annualised volatility of the geometric Brownian motion.
    pub vol: f64,
    /// Bid/ask spread as a fraction of the price.
    pub spread: f64,
    /// Mean trade size, shares.
    pub trade_size: f64,
}

/// The set of symbols, most popular first, with a name index for parsing watchlists.
#[derive(Debug)]
pub struct Universe {
    pub symbols: Vec<SymbolSpec>,
    index: HashMap<String, u32>,
}

impl Universe {
    /// Builds `n` symbols deterministically from `seed`: the ~100 tickers of the reference
    /// table first (at their reference quotes), then generated ticker-like names with seeded
    /// random ones. Popularity is Zipf over that order.
    pub fn new(n: usize, seed: u64) -> Universe {
        // A separate stream from the tick generator so the universe does not shift the ticks.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ UNIVERSE_STREAM);
        let table = reference::table();
        let names = symbol_names(&table, n);
        let norm: f64 = (1..=n).map(|k| 1.0 / (k as f64).powf(ZIPF_S)).sum();
        let symbols: Vec<SymbolSpec> = names
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                // Drawn for every symbol, used only beyond the table, so a generated symbol's
                // quotes do not depend on how long the table is.
                let price: f64 = (rng.random_range(2.0f64.ln()..800.0f64.ln())).exp();
                let price = (price * 100.0).round() / 100.0;
                let vol = rng.random_range(0.15..0.9);
                let spread = rng.random_range(0.0002..0.0015);
                let weight = 1.0 / ((i + 1) as f64).powf(ZIPF_S) / norm;
                match table.get(i) {
                    Some(r) => SymbolSpec {
                        name,
                        weight,
                        start_price: r.price,
                        vol: r.vol,
                        spread: r.spread(),
                        trade_size: r.size,
                    },
                    None => SymbolSpec {
                        name,
                        weight,
                        start_price: price,
                        vol,
                        spread,
                        trade_size: default_trade_size(price),
                    },
                }
            })
            .collect();
        Universe::from_symbols(symbols)
    }

    /// A universe of the given symbols (e.g. a tape's), in popularity order.
    pub fn from_symbols(symbols: Vec<SymbolSpec>) -> Universe {
        let index = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i as u32))
            .collect();
        Universe { symbols, index }
    }

    /// Symbol id by name (exact, upper case).
    pub fn lookup(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    pub fn name(&self, id: u32) -> &str {
        &self.symbols[id as usize].name
    }
}

/// The reference table's tickers, then generated 3–4 letter names that collide with none of them.
fn symbol_names(table: &[Reference], n: usize) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    for r in table.iter().take(n) {
        seen.insert(r.sym.to_string());
        out.push(r.sym.to_string());
    }
    // Walk 26^4 with a multiplier coprime to it: looks random, is a fixed function of the index.
    let space: u64 = 26 * 26 * 26 * 26;
    let mut k: u64 = 0;
    while out.len() < n {
        k += 1;
        let v = (k * 7_919 + 104_729) % space;
        let len = if k.is_multiple_of(3) { 3 } else { 4 };
        let mut name = String::with_capacity(4);
        let mut x = v;
        for _ in 0..len {
            name.push((b'A' + (x % 26) as u8) as char);
            x /= 26;
        }
        if seen.insert(name.clone()) {
            out.push(name);
        }
    }
    out
}

/// One generated tick before it gets its sequence numbers. Prices in integer cents so they
/// print with exactly two decimals and compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTick {
    pub sym: u32,
    pub bid_c: u64,
    pub ask_c: u64,
    pub last_c: u64,
    pub size: u32,
}

/// The random walk: one RNG, the Poisson clock and every symbol's current price.
pub struct Market {
    rng: ChaCha8Rng,
    /// Current (unrounded) price of each symbol.
    prices: Vec<f64>,
    /// Simulated time of each symbol's previous tick, seconds since start: GBM steps over the
    /// time elapsed for that symbol, so rarely ticking symbols move more per tick.
    last_t: Vec<f64>,
    vols: Vec<f64>,
    spreads: Vec<f64>,
    sizes: Vec<f64>,
    /// Simulated time, seconds since the start: the sum of the drawn inter-arrival times.
    clock: f64,
    popularity: WeightedIndex<f64>,
    pacing: Pacing,
}

impl Market {
    /// A market over `universe` whose ticks arrive at a steady `rate` per second (0: only
    /// [`Market::tick_after`]).
    pub fn new(universe: &Universe, seed: u64, rate: f64) -> Market {
        Market::paced(universe, seed, Pacing::steady(rate))
    }

    /// A market whose Poisson clock follows `pacing` (e.g. with an opening burst).
    pub fn paced(universe: &Universe, seed: u64, pacing: Pacing) -> Market {
        let weights: Vec<f64> = universe.symbols.iter().map(|s| s.weight).collect();
        Market {
            rng: ChaCha8Rng::seed_from_u64(seed),
            prices: universe.symbols.iter().map(|s| s.start_price).collect(),
            last_t: vec![0.0; universe.len()],
            vols: universe.symbols.iter().map(|s| s.vol).collect(),
            spreads: universe.symbols.iter().map(|s| s.spread).collect(),
            sizes: universe.symbols.iter().map(|s| s.trade_size).collect(),
            clock: 0.0,
            popularity: WeightedIndex::new(&weights).expect("universe has positive weights"),
            pacing,
        }
    }

    /// Draws the next Poisson arrival: returns its scheduled offset from the start (seconds) and
    /// the tick. `None` when the market has no rate.
    pub fn next_scheduled(&mut self) -> Option<(f64, RawTick)> {
        if self.pacing.rate <= 0.0 {
            return None;
        }
        let e: f64 = Exp1.sample(&mut self.rng);
        let dt = self.pacing.next_gap(self.clock, e)?;
        Some((self.clock + dt, self.tick_after(dt)))
    }

    /// Advances simulated time by `dt` seconds and produces one tick.
    pub fn tick_after(&mut self, dt: f64) -> RawTick {
        self.clock += dt;
        let sym = self.popularity.sample(&mut self.rng);
        let elapsed = ((self.clock - self.last_t[sym]) * TIME_SCALE / TRADING_YEAR_S).max(0.0);
        self.last_t[sym] = self.clock;
        let vol = self.vols[sym];
        let z: f64 = StandardNormal.sample(&mut self.rng);
        let p = self.prices[sym] * ((-0.5 * vol * vol) * elapsed + vol * elapsed.sqrt() * z).exp();
        // Floor at $1 so spreads stay meaningful and bids positive.
        let p = p.max(1.0);
        self.prices[sym] = p;
        let last_c = (p * 100.0).round() as u64;
        let half_c = ((last_c as f64 * self.spreads[sym] / 2.0).round() as u64).max(1);
        // Exponential around the symbol's mean trade size; blocks print in round lots.
        let e: f64 = Exp1.sample(&mut self.rng);
        let shares = (1.0 + (e * self.sizes[sym]).floor()).min(MAX_TRADE);
        let shares = if shares >= ROUND_LOT_FROM {
            (shares / 100.0).round() * 100.0
        } else {
            shares
        };
        RawTick {
            sym: sym as u32,
            bid_c: last_c - half_c,
            ask_c: last_c + half_c,
            last_c,
            size: shares as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_real_first() {
        let u = Universe::new(2_000, 1);
        assert_eq!(u.name(0), "AAPL");
        let set: std::collections::HashSet<_> = u.symbols.iter().map(|s| &s.name).collect();
        assert_eq!(set.len(), 2_000);
        let w: f64 = u.symbols.iter().map(|s| s.weight).sum();
        assert!((w - 1.0).abs() < 1e-9);
    }

    #[test]
    fn prices_are_consistent() {
        let u = Universe::new(50, 3);
        let mut m = Market::new(&u, 3, 1000.0);
        for _ in 0..10_000 {
            let (_, t) = m.next_scheduled().unwrap();
            assert!(t.bid_c < t.last_c && t.last_c < t.ask_c && t.bid_c > 0);
            assert!(t.size >= 1);
        }
    }

    #[test]
    fn built_in_symbols_open_at_their_reference_quotes() {
        let u = Universe::new(500, 9);
        for r in reference::table() {
            let s = &u.symbols[u.lookup(r.sym).unwrap() as usize];
            assert_eq!(
                (s.start_price, s.vol, s.trade_size),
                (r.price, r.vol, r.size)
            );
        }
        // The generated ones keep seeded quotes.
        assert!(u.symbols[200].start_price >= 2.0 && u.symbols[200].start_price <= 800.0);
    }

    #[test]
    fn trade_sizes_follow_the_table() {
        let u = Universe::new(500, 1);
        let mut m = Market::new(&u, 1, 1000.0);
        let (spy, bkng) = (u.lookup("SPY").unwrap(), u.lookup("BKNG").unwrap());
        let mut sum = [(0u64, 0u64); 2];
        for _ in 0..200_000 {
            let (_, t) = m.next_scheduled().unwrap();
            for (k, id) in [spy, bkng].into_iter().enumerate() {
                if t.sym == id {
                    sum[k].0 += u64::from(t.size);
                    sum[k].1 += 1;
                }
            }
        }
        let mean = |k: usize| sum[k].0 as f64 / sum[k].1.max(1) as f64;
        // SPY trades ~200 shares at a time, BKNG ~5.
        assert!((120.0..300.0).contains(&mean(0)), "SPY {}", mean(0));
        assert!((2.0..15.0).contains(&mean(1)), "BKNG {}", mean(1));
    }
}
