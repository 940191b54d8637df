//! Price candles of one symbol at the detail view's three intervals (1 s, 10 s, 1 min), built
//! from the ticks the viewer receives, keyed by each tick's scheduled `ts` (the market's clock, so
//! the candles do not depend on the transport's delay).

use std::collections::VecDeque;

/// Candles kept per interval: more than any terminal is wide.
pub const KEEP: usize = 300;

/// A candle width, cycled by `c` in the detail view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    S1,
    S10,
    M1,
}

impl Interval {
    pub const ALL: [Interval; 3] = [Interval::S1, Interval::S10, Interval::M1];

    /// Seconds per candle.
    pub fn secs(self) -> u64 {
        match self {
            Interval::S1 => 1,
            Interval::S10 => 10,
            Interval::M1 => 60,
        }
    }

    /// `1s`, `10s`, `1m`.
    pub fn label(self) -> &'static str {
        match self {
            Interval::S1 => "1s",
            Interval::S10 => "10s",
            Interval::M1 => "1m",
        }
    }

    /// The interval `c` moves to.
    pub fn next(self) -> Interval {
        match self {
            Interval::S1 => Interval::S10,
            Interval::S10 => Interval::M1,
            Interval::M1 => Interval::S1,
        }
    }

    fn index(self) -> usize {
        match self {
            Interval::S1 => 0,
            Interval::S10 => 1,
            Interval::M1 => 2,
        }
    }
}

/// One candle: the ticks whose `ts` fell in `[start_s, start_s + interval)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    /// Start, seconds since the Unix epoch.
    pub start_s: u64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    /// Shares traded.
    pub volume: u64,
}

impl Candle {
    /// True when the candle closed at or above its open.
    pub fn up(&self) -> bool {
        self.close >= self.open
    }
}

/// A symbol's candles at every interval, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Candles {
    series: [VecDeque<Candle>; 3],
}

impl Candles {
    /// Adds a trade at `ts_us` (µs since the epoch). A tick older than the newest candle's start
    /// (a late delivery) updates the candle it belongs to when that is still kept.
    pub fn push(&mut self, ts_us: u64, price: f64, size: u32) {
        for iv in Interval::ALL {
            let series = &mut self.series[iv.index()];
            let start_s = ts_us / 1_000_000 / iv.secs() * iv.secs();
            let newest = series.len().checked_sub(1);
            match series.iter().rposition(|c| c.start_s <= start_s) {
                Some(i) if series[i].start_s == start_s => {
                    let c = &mut series[i];
                    c.high = c.high.max(price);
                    c.low = c.low.min(price);
                    c.volume += u64::from(size);
                    // Only the newest candle's close moves: a late tick is not the last trade.
                    if Some(i) == newest {
                        c.close = price;
                    }
                }
                _ if series.back().is_none_or(|b| b.start_s < start_s) => {
                    series.push_back(Candle {
                        start_s,
                        open: price,
                        high: price,
                        low: price,
                        close: price,
                        volume: u64::from(size),
                    });
                    while series.len() > KEEP {
                        series.pop_front();
                    }
                }
                // Older than every kept candle, or inside a gap of the kept ones: dropped.
                _ => {}
            }
        }
    }

    /// The candles at `iv`, oldest first.
    pub fn at(&self, iv: Interval) -> &VecDeque<Candle> {
        &self.series[iv.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fold_into_candles_per_interval() {
        let mut c = Candles::default();
        let t0 = 1_767_225_600_000_000; // 00:00:00, a minute boundary
        for (dt_ms, p, s) in [
            (0, 10.0, 100),
            (400, 11.0, 50),
            (900, 9.5, 10),
            (1_100, 9.8, 5),
            (12_000, 12.0, 1),
        ] {
            c.push(t0 + dt_ms * 1_000, p, s);
        }
        let s1 = c.at(Interval::S1);
        assert_eq!(s1.len(), 3);
        assert_eq!(
            (s1[0].open, s1[0].high, s1[0].low, s1[0].close, s1[0].volume),
            (10.0, 11.0, 9.5, 9.5, 160)
        );
        assert!(!s1[0].up() && s1[1].up());
        let s10 = c.at(Interval::S10);
        assert_eq!(s10.len(), 2);
        assert_eq!((s10[0].close, s10[0].volume), (9.8, 165));
        let m1 = c.at(Interval::M1);
        assert_eq!(m1.len(), 1);
        assert_eq!((m1[0].open, m1[0].high, m1[0].close), (10.0, 12.0, 12.0));
        // A late tick for the first second still counts there, without moving its close.
        c.push(t0 + 500_000, 13.0, 1);
        let s1 = c.at(Interval::S1);
        assert_eq!((s1[0].high, s1[0].close, s1[0].volume), (13.0, 9.5, 161));
    }
}
