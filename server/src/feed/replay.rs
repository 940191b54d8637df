//! Playing a [`Tape`] at a speed: tick `i` is due `(ts_i − ts_0) / speed` after the epoch, so the
//! schedule is a pure function of (tape, speed, epoch) and a restart with the same epoch replays
//! the same ticks up to now and continues, exactly as for the simulated market.

use std::path::Path;
use std::sync::Arc;

use crate::feed::tape::{Tape, TapeError};
use crate::market::RawTick;

/// Highest `--replay-speed`.
pub const MAX_SPEED: f64 = 1_000_000.0;

/// A tape and the speed to play it at (`--replay FILE --replay-speed N`).
#[derive(Debug, Clone)]
pub struct Replay {
    pub tape: Arc<Tape>,
    /// 1 = as recorded, 10 = ten times faster.
    pub speed: f64,
}

impl Replay {
    /// Loads and checks the tape at `path`.
    pub fn load(path: &Path, speed: f64) -> Result<Replay, TapeError> {
        Ok(Replay {
            tape: Arc::new(Tape::load(path)?),
            speed,
        })
    }

    /// Mean tick rate of the replay, ticks/s (what `/symbols` reports as the rate).
    pub fn rate(&self) -> f64 {
        let span_s = self.tape.span_us() as f64 / 1e6 / self.speed;
        if span_s > 0.0 {
            self.tape.ticks().len() as f64 / span_s
        } else {
            // One instant: all ticks at once; report the count.
            self.tape.ticks().len() as f64
        }
    }

    /// A player at the tape's first tick.
    pub fn player(&self) -> Player {
        Player {
            tape: self.tape.clone(),
            speed: self.speed,
            next: 0,
        }
    }
}

/// A cursor over a tape.
pub struct Player {
    tape: Arc<Tape>,
    speed: f64,
    /// Index of the next tick to hand out.
    next: usize,
}

impl Player {
    /// The next tick and its due time, µs after the epoch; `None` at the end of the tape.
    pub fn next_scheduled(&mut self) -> Option<(u64, RawTick)> {
        let &(offset, raw) = self.tape.ticks().get(self.next)?;
        self.next += 1;
        Some(((offset as f64 / self.speed).round() as u64, raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_divides_the_offsets() {
        let tape = Tape::read(
            Path::new("t.csv"),
            "0,A,1,2,1,1\n1000000,B,1,2,1,1\n3000000,A,1,2,1,1\n".as_bytes(),
        )
        .unwrap();
        let r = Replay {
            tape: Arc::new(tape),
            speed: 4.0,
        };
        let mut p = r.player();
        let due: Vec<u64> = std::iter::from_fn(|| p.next_scheduled().map(|t| t.0)).collect();
        assert_eq!(due, [0, 250_000, 750_000]);
        assert_eq!(r.rate(), 4.0);
    }
}
