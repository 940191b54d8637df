//! The Poisson clock's rate over the session: steady, or with an opening burst (`--open-burst`),
//! the first seconds at many times the rate as real markets trade at the open.
//!
//! Arrivals follow a Poisson process whose intensity is `rate × factor` during the burst and
//! `rate` after it. Each arrival consumes one unit-exponential draw `e` and moves the clock to
//! where the cumulative intensity has grown by `e` (the time-change construction of an
//! inhomogeneous Poisson process), so the schedule is still a pure function of the seed, and a
//! restart with the same epoch replays the burst exactly. Without a burst the step is
//! `e × (1 / rate)`, bit for bit what `Exp::new(rate)` draws, so a steady market's stream is the
//! same as before bursts existed.

use std::time::Duration;

/// Most `factor` an opening burst may have.
pub const MAX_BURST_FACTOR: f64 = 1_000.0;
/// Longest opening burst.
pub const MAX_BURST: Duration = Duration::from_secs(3_600);

/// The opening burst: the first `duration` of the session at `factor` times the rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenBurst {
    pub factor: f64,
    pub duration: Duration,
}

impl Default for OpenBurst {
    /// Ten times the rate for the first five seconds.
    fn default() -> Self {
        OpenBurst {
            factor: 10.0,
            duration: Duration::from_secs(5),
        }
    }
}

impl OpenBurst {
    /// `FACTORxDURATION`, e.g. `10x5s` or `20x500ms`.
    pub fn parse(s: &str) -> Result<OpenBurst, String> {
        let bad = || format!("'{s}' is not FACTORxDURATION (e.g. 10x5s, 20x500ms)");
        let (f, d) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
        let factor: f64 = f.trim().parse().map_err(|_| bad())?;
        let duration = humantime::parse_duration(d.trim()).map_err(|_| bad())?;
        let b = OpenBurst { factor, duration };
        b.check()?;
        Ok(b)
    }

    /// The factor is 1 to [`MAX_BURST_FACTOR`] and the duration 1 ms to [`MAX_BURST`].
    pub fn check(&self) -> Result<(), String> {
        if !(self.factor.is_finite() && (1.0..=MAX_BURST_FACTOR).contains(&self.factor)) {
            return Err(format!(
                "open-burst factor must be 1 to {MAX_BURST_FACTOR}, got {}",
                self.factor
            ));
        }
        if self.duration < Duration::from_millis(1) || self.duration > MAX_BURST {
            return Err(format!(
                "open-burst duration must be 1ms to {}s, got {:?}",
                MAX_BURST.as_secs(),
                self.duration
            ));
        }
        Ok(())
    }

    /// Ticks the burst adds over a steady rate in the first `elapsed_s` seconds.
    pub fn extra_ticks(&self, rate: f64, elapsed_s: f64) -> f64 {
        rate * (self.factor - 1.0) * elapsed_s.min(self.duration.as_secs_f64())
    }
}

/// The rate of the Poisson clock over the session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Steady rate, ticks/s; 0 = no scheduled ticks.
    pub rate: f64,
    pub burst: Option<OpenBurst>,
}

impl Pacing {
    /// A steady rate.
    pub fn steady(rate: f64) -> Pacing {
        Pacing { rate, burst: None }
    }

    /// The time from an arrival at `clock` (seconds since the open) to the next one, given the
    /// unit exponential draw `e`. `None` at rate 0.
    pub fn next_gap(&self, clock: f64, e: f64) -> Option<f64> {
        if self.rate <= 0.0 || !self.rate.is_finite() {
            return None;
        }
        if let Some(b) = self.burst {
            let left = b.duration.as_secs_f64() - clock;
            if left > 0.0 {
                let fast = self.rate * b.factor;
                let room = left * fast;
                if e < room {
                    return Some(e * (1.0 / fast));
                }
                return Some(left + (e - room) * (1.0 / self.rate));
            }
        }
        Some(e * (1.0 / self.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_factor_and_duration() {
        assert_eq!(
            OpenBurst::parse("10x5s"),
            Ok(OpenBurst {
                factor: 10.0,
                duration: Duration::from_secs(5)
            })
        );
        assert_eq!(
            OpenBurst::parse("2.5X500ms").map(|b| (b.factor, b.duration)),
            Ok((2.5, Duration::from_millis(500)))
        );
        for bad in ["10", "x5s", "0.5x5s", "10x", "10xsoon", "5000x1s", "10x2h"] {
            assert!(OpenBurst::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_burst_is_faster_and_then_steady() {
        let p = Pacing {
            rate: 100.0,
            burst: Some(OpenBurst::default()),
        };
        // Inside the burst a unit draw moves the clock 1/1000 s, after it 1/100 s.
        assert!((p.next_gap(0.0, 1.0).unwrap() - 0.001).abs() < 1e-12);
        assert!((p.next_gap(6.0, 1.0).unwrap() - 0.01).abs() < 1e-12);
        // A draw that crosses the end spends the rest at the steady rate: 0.5 s of burst is 500
        // units, the other 500 take 5 s.
        assert!((p.next_gap(4.5, 1_000.0).unwrap() - 5.5).abs() < 1e-9);
        assert_eq!(Pacing::steady(0.0).next_gap(0.0, 1.0), None);
    }
}
