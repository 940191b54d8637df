//! Reconnect delays: exponential backoff with full jitter ("Exponential Backoff And Jitter",
//! AWS Architecture Blog, 2015): after the n-th consecutive failure wait a uniform random time in
//! `0..min(cap, base·2ⁿ)`. Full jitter spreads thousands of clients that failed together (a server
//! restart) over the whole window instead of sending them back in synchronized waves.

use std::time::Duration;

use rand::{Rng, RngExt};

/// First window.
pub const BASE: Duration = Duration::from_millis(100);
/// Largest window.
pub const CAP: Duration = Duration::from_secs(5);

/// Consecutive-failure counter; [`Backoff::reset`] after a success.
#[derive(Debug, Default, Clone)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The delay before the next attempt, counting one more failure.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let window = BASE.saturating_mul(1u32 << self.failures.min(16)).min(CAP);
        self.failures = self.failures.saturating_add(1);
        window.mul_f64(rng.random::<f64>())
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::SmallRng, SeedableRng};

    #[test]
    fn grows_to_the_cap_with_jitter() {
        let mut rng = SmallRng::seed_from_u64(1);
        let mut b = Backoff::default();
        let mut max_seen = Duration::ZERO;
        for n in 0..30 {
            let d = b.next_delay(&mut rng);
            let window = BASE.saturating_mul(1 << n.min(16)).min(CAP);
            assert!(d <= window, "{d:?} > {window:?}");
            max_seen = max_seen.max(d);
        }
        assert!(max_seen > CAP / 2 && max_seen <= CAP);
        b.reset();
        assert!(b.next_delay(&mut rng) <= BASE);
    }
}
