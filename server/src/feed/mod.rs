//! Where ticks come from: the seeded market simulation ([`crate::market`]) or a recorded quote
//! tape replayed at a speed ([`tape`], [`replay`]). The producer publishes either the same way,
//! so every transport, seq/sseq numbering, the journal and restarts by `--epoch-us` work alike.
//!
//! A [`Source`] only says *what* the next tick is and *when* it is due (µs after the epoch);
//! pacing against the clock is the generator's.
//!
//! An edge (`tickbench serve --feed nats://...`) has no [`Source`]: [`nats`] copies a NATS
//! JetStream stream, published by `tickbench feed` from the same seeded market, into the journal.

pub mod nats;
pub mod replay;
pub mod tape;

use crate::market::{Market, RawTick};

pub use replay::{Player, Replay};
pub use tape::{Tape, TapeError};

/// The producer's source of ticks.
pub enum Source {
    /// The seeded random walk (boxed: its RNG state is far larger than a tape cursor).
    Simulated(Box<Market>),
    /// A tape, played from its first tick.
    Tape(Player),
}

impl From<Market> for Source {
    fn from(m: Market) -> Source {
        Source::Simulated(Box::new(m))
    }
}

impl Source {
    /// The next tick and when it is due, µs after the epoch; `None` when no more are scheduled
    /// (a market at rate 0, the end of a tape).
    pub fn next_scheduled(&mut self) -> Option<(u64, RawTick)> {
        match self {
            Source::Simulated(m) => m
                .next_scheduled()
                .map(|(offset, raw)| ((offset * 1e6) as u64, raw)),
            Source::Tape(p) => p.next_scheduled(),
        }
    }

    /// A tick outside the schedule, for `ServerHandle::publish`: the market steps `dt` seconds,
    /// a tape hands over its next tick early (`None` at its end).
    pub fn tick_now(&mut self, dt: f64) -> Option<RawTick> {
        match self {
            Source::Simulated(m) => Some(m.tick_after(dt)),
            Source::Tape(p) => p.next_scheduled().map(|(_, raw)| raw),
        }
    }
}
