//! The simulated market: a fixed universe of symbols and a seeded random walk over them.
//!
//! Everything random comes from one [`ChaCha8Rng`] seeded with `--seed` (ChaCha's output is
//! specified, so the stream does not change between `rand` versions or platforms). The Poisson
//! inter-arrival times are drawn from the same generator, and prices depend only on those drawn
//! times, never on the wall clock: the same seed and rate always give the same sequence of
//! (symbol, prices, size), however late the generator thread runs.

use std::collections::HashMap;

use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, StandardNormal};

/// Real tickers, roughly by how much attention they get: the head of the Zipf popularity curve.
const REAL_TICKERS: &[&str] = &[
    "AAPL", "NVDA", "TSLA", "MSFT", "AMZN", "META", "GOOGL", "AMD", "SPY", "QQQ", "NFLX", "GOOG",
    "AVGO", "PLTR", "INTC", "BA", "JPM", "COIN", "DIS", "BAC", "UBER", "PYPL", "SHOP", "CRM",
    "ORCL", "MU", "F", "GM", "XOM", "CVX", "WMT", "COST", "KO", "PEP", "MCD", "NKE", "SBUX", "V",
    "MA", "GS", "MS", "C", "WFC", "T", "VZ", "PFE", "MRK", "JNJ", "LLY", "UNH", "ABBV", "CVS",
    "HD", "LOW", "TGT", "QCOM", "TXN", "IBM", "CSCO", "ADBE", "NOW", "SNOW", "ABNB", "SQ", "ROKU",
    "SNAP", "PINS", "RIVN", "LCID", "NIO", "BABA", "TSM", "ASML", "ARM", "SMCI", "MSTR", "HOOD",
    "SOFI", "DKNG", "RBLX", "U", "NET", "DDOG", "CRWD", "ZS", "PANW", "MRNA", "BNTX", "GE", "CAT",
    "DE", "HON", "LMT", "RTX", "NOC", "UPS", "FDX", "DAL", "UAL", "AAL", "CCL", "MAR", "BKNG",
    "SPOT",
];

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
}

/// The set of symbols, most popular first, with a name index for parsing watchlists.
#[derive(Debug)]
pub struct Universe {
    pub symbols: Vec<SymbolSpec>,
    index: HashMap<String, u32>,
}

impl Universe {
    /// Builds `n` symbols deterministically from `seed`: the ~100 real tickers first, then
    /// generated ticker-like names.
    pub fn new(n: usize, seed: u64) -> Universe {
        // A separate stream from the tick generator so the universe does not shift the ticks.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ UNIVERSE_STREAM);
        let names = symbol_names(n);
        let norm: f64 = (1..=n).map(|k| 1.0 / (k as f64).powf(ZIPF_S)).sum();
        let symbols: Vec<SymbolSpec> = names
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let start_price: f64 = (rng.random_range(2.0f64.ln()..800.0f64.ln())).exp();
                let start_price = (start_price * 100.0).round() / 100.0;
                SymbolSpec {
                    name,
                    weight: 1.0 / ((i + 1) as f64).powf(ZIPF_S) / norm,
                    start_price,
                    vol: rng.random_range(0.15..0.9),
                    spread: rng.random_range(0.0002..0.0015),
                }
            })
            .collect();
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

/// The ~100 real tickers, then generated 3–4 letter names that collide with none of them.
fn symbol_names(n: usize) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    for t in REAL_TICKERS.iter().take(n) {
        seen.insert(t.to_string());
        out.push(t.to_string());
    }
    // Walk 26^4 with a multiplier coprime to it: looks random, is a fixed function of the index.
    let space: u64 = 26 * 26 * 26 * 26;
    let mut k: u64 = 0;
    while out.len() < n {
        k += 1;
        let v = (k * 7_919 + 104_729) % space;
        let len = if k % 3 == 0 { 3 } else { 4 };
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
    /// Simulated time, seconds since the start: the sum of the drawn inter-arrival times.
    clock: f64,
    popularity: WeightedIndex<f64>,
    interarrival: Option<Exp<f64>>,
}

impl Market {
    /// A market over `universe` whose ticks arrive at `rate` per second (0: only [`Market::tick_after`]).
    pub fn new(universe: &Universe, seed: u64, rate: f64) -> Market {
        let weights: Vec<f64> = universe.symbols.iter().map(|s| s.weight).collect();
        Market {
            rng: ChaCha8Rng::seed_from_u64(seed),
            prices: universe.symbols.iter().map(|s| s.start_price).collect(),
            last_t: vec![0.0; universe.len()],
            vols: universe.symbols.iter().map(|s| s.vol).collect(),
            spreads: universe.symbols.iter().map(|s| s.spread).collect(),
            clock: 0.0,
            popularity: WeightedIndex::new(&weights).expect("universe has positive weights"),
            interarrival: if rate > 0.0 {
                Exp::new(rate).ok()
            } else {
                None
            },
        }
    }

    /// Draws the next Poisson arrival: returns its scheduled offset from the start (seconds) and
    /// the tick. `None` when the market has no rate.
    pub fn next_scheduled(&mut self) -> Option<(f64, RawTick)> {
        let exp = self.interarrival?;
        let dt: f64 = exp.sample(&mut self.rng);
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
        let size = if self.rng.random_bool(0.15) {
            self.rng.random_range(1..100)
        } else {
            let lots: f64 = Exp::new(1.0 / 3.0)
                .map(|e| e.sample(&mut self.rng))
                .unwrap_or(0.0);
            100 * (1 + (lots as u32).min(999))
        };
        RawTick {
            sym: sym as u32,
            bid_c: last_c - half_c,
            ask_c: last_c + half_c,
            last_c,
            size,
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
}
