//! A recorded quote tape (`tickbench serve --replay FILE.csv`): the file format, read and checked
//! in full before the server starts, so a bad line is refused with its line number instead of
//! surfacing mid-run.
//!
//! # Format
//! CSV with the columns `ts,sym,bid,ask,last,size`, one quote per line; an optional header line
//! naming exactly those columns, blank lines and lines starting with `#` are skipped.
//! - `ts`: integer microseconds (any origin, e.g. since the Unix epoch), or seconds with a
//!   decimal point (`34200.25`), or a time of day `HH:MM:SS[.ffffff]`; digits beyond the
//!   microsecond are dropped. Only differences matter: the first tick is the session's open.
//!   Times never go backwards; equal times keep file order.
//! - `sym`: 1 to 12 of `A-Z 0-9 . _ -` (lower case is upper-cased).
//! - `bid`, `ask`, `last`: positive prices with at most two decimals (cents), `bid <= ask`;
//!   `last` may lie outside the quote (a trade printed before the quote moved).
//! - `size`: shares, a non-negative integer.
//!
//! The symbols become the server's universe, most active first; a symbol's weight is its share
//! of the tape's ticks and its `/symbols` price is its first `last`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::market::{RawTick, SymbolSpec, Universe};

/// Most ticks a tape may hold (each costs 40 bytes of memory while the server runs).
pub const MAX_TAPE_TICKS: usize = 20_000_000;
/// Most symbols a tape may name (the universe's limit).
pub const MAX_TAPE_SYMBOLS: usize = 10_000;
/// Longest symbol name.
const MAX_SYM_LEN: usize = 12;
/// Highest price accepted, USD.
const MAX_PRICE_C: u64 = 1_000_000_000 * 100;
/// The only header a tape may have.
const HEADER: [&str; 6] = ["ts", "sym", "bid", "ask", "last", "size"];

/// Why a tape cannot be replayed. Every message names the file, and the line when one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum TapeError {
    #[error("cannot read tape {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Whole { path: PathBuf, reason: String },
}

/// A parsed tape: its universe and its ticks, offsets from the first tick in µs.
pub struct Tape {
    path: PathBuf,
    universe: Arc<Universe>,
    ticks: Vec<(u64, RawTick)>,
}

impl std::fmt::Debug for Tape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tape")
            .field("path", &self.path)
            .field("ticks", &self.ticks.len())
            .field("symbols", &self.universe.len())
            .finish()
    }
}

impl Tape {
    /// Reads and checks `path` (see the module docs for the format).
    pub fn load(path: &Path) -> Result<Tape, TapeError> {
        let file = std::fs::File::open(path).map_err(|source| TapeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Tape::read(path, std::io::BufReader::new(file))
    }

    /// Parses a tape from `input`; `path` only names it in errors.
    pub fn read(path: &Path, input: impl BufRead) -> Result<Tape, TapeError> {
        let line_err = |line: usize, reason: String| TapeError::Line {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let whole = |reason: String| TapeError::Whole {
            path: path.to_path_buf(),
            reason,
        };
        // Provisional ids in order of first appearance; renumbered by activity at the end.
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut firsts: Vec<RawTick> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut counts: Vec<u64> = Vec::new();
        let mut volume: Vec<u64> = Vec::new();
        let mut ticks: Vec<(u64, RawTick)> = Vec::new();
        let mut first_ts: Option<u64> = None;
        let mut prev_ts = 0u64;
        let mut seen_data = false;
        for (i, line) in input.lines().enumerate() {
            let n = i + 1;
            let line = line.map_err(|source| TapeError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            if !seen_data && f.first().is_some_and(|c| c.eq_ignore_ascii_case("ts")) {
                seen_data = true;
                let ok = f.len() == HEADER.len()
                    && f.iter().zip(HEADER).all(|(a, b)| a.eq_ignore_ascii_case(b));
                if !ok {
                    return Err(line_err(
                        n,
                        format!("header must be '{}', got '{line}'", HEADER.join(",")),
                    ));
                }
                continue;
            }
            seen_data = true;
            if f.len() != HEADER.len() {
                return Err(line_err(
                    n,
                    format!(
                        "{} fields, want {} ({})",
                        f.len(),
                        HEADER.len(),
                        HEADER.join(",")
                    ),
                ));
            }
            let ts = parse_ts(f[0]).map_err(|r| line_err(n, format!("ts: {r}")))?;
            if first_ts.is_some() && ts < prev_ts {
                return Err(line_err(
                    n,
                    format!(
                        "ts {} goes back in time (previous line: {prev_ts} µs)",
                        f[0]
                    ),
                ));
            }
            prev_ts = ts;
            let t0 = *first_ts.get_or_insert(ts);
            let sym = parse_sym(f[1]).map_err(|r| line_err(n, format!("sym: {r}")))?;
            let price = |k: usize| {
                parse_cents(f[k]).map_err(|r| line_err(n, format!("{}: {r}", HEADER[k])))
            };
            let (bid_c, ask_c, last_c) = (price(2)?, price(3)?, price(4)?);
            if bid_c > ask_c {
                return Err(line_err(n, format!("bid {} is above ask {}", f[2], f[3])));
            }
            let size: u32 = f[5].parse().map_err(|_| {
                line_err(
                    n,
                    format!("size: '{}' is not a whole number of shares", f[5]),
                )
            })?;
            let id = match ids.get(&sym) {
                Some(&id) => id,
                None => {
                    if names.len() == MAX_TAPE_SYMBOLS {
                        return Err(line_err(n, format!("more than {MAX_TAPE_SYMBOLS} symbols")));
                    }
                    let id = names.len() as u32;
                    ids.insert(sym.clone(), id);
                    names.push(sym);
                    counts.push(0);
                    volume.push(0);
                    firsts.push(RawTick {
                        sym: id,
                        bid_c,
                        ask_c,
                        last_c,
                        size,
                    });
                    id
                }
            };
            if ticks.len() == MAX_TAPE_TICKS {
                return Err(line_err(n, format!("more than {MAX_TAPE_TICKS} ticks")));
            }
            counts[id as usize] += 1;
            volume[id as usize] += u64::from(size);
            ticks.push((
                ts - t0,
                RawTick {
                    sym: id,
                    bid_c,
                    ask_c,
                    last_c,
                    size,
                },
            ));
        }
        if ticks.is_empty() {
            return Err(whole(
                "no ticks (want lines of ts,sym,bid,ask,last,size)".into(),
            ));
        }
        // Most active first, ties in order of first appearance: the universe's popularity order.
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_by_key(|&id| std::cmp::Reverse(counts[id as usize]));
        let mut renumber = vec![0u32; names.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        for (_, t) in &mut ticks {
            t.sym = renumber[t.sym as usize];
        }
        let total = ticks.len() as f64;
        let symbols = order
            .iter()
            .map(|&old| {
                let o = old as usize;
                let first = firsts[o];
                SymbolSpec {
                    name: names[o].clone(),
                    weight: counts[o] as f64 / total,
                    start_price: first.last_c as f64 / 100.0,
                    vol: 0.0,
                    spread: (first.ask_c - first.bid_c) as f64 / first.last_c as f64,
                    trade_size: volume[o] as f64 / counts[o] as f64,
                }
            })
            .collect();
        Ok(Tape {
            path: path.to_path_buf(),
            universe: Arc::new(Universe::from_symbols(symbols)),
            ticks,
        })
    }

    /// The tape's symbols, most active first.
    pub fn universe(&self) -> &Arc<Universe> {
        &self.universe
    }

    /// `(offset from the first tick in µs, tick)`, in tape order.
    pub fn ticks(&self) -> &[(u64, RawTick)] {
        &self.ticks
    }

    /// Time from the first tick to the last, µs.
    pub fn span_us(&self) -> u64 {
        self.ticks.last().map_or(0, |t| t.0)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `ts` in µs: an integer (µs), decimal seconds, or `HH:MM:SS[.f]`.
fn parse_ts(s: &str) -> Result<u64, String> {
    let bad = || format!("'{s}' is not µs, seconds (1.5) or a time of day (09:30:00.25)");
    if s.contains(':') {
        let mut parts = s.splitn(3, ':');
        let (h, m, sec) = (
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
        );
        let h: u64 = digits(h).ok_or_else(bad)?;
        let m: u64 = digits(m).filter(|m| *m < 60).ok_or_else(bad)?;
        let sec_us = seconds_us(sec).ok_or_else(bad)?;
        if h >= 48 || sec_us >= 60_000_000 {
            return Err(bad());
        }
        return Ok((h * 3_600 + m * 60) * 1_000_000 + sec_us);
    }
    if s.contains('.') {
        return seconds_us(s).ok_or_else(bad);
    }
    digits(s).ok_or_else(bad)
}

/// A non-empty string of ASCII digits as a number.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `SS` or `SS.ffffff…` in µs (digits beyond the µs dropped).
fn seconds_us(s: &str) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let whole = digits(whole)?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut us = 0u64;
    for k in 0..6 {
        us = us * 10 + frac.as_bytes().get(k).map_or(0, |b| u64::from(b - b'0'));
    }
    whole.checked_mul(1_000_000)?.checked_add(us)
}

/// A price in cents: digits, optionally `.` and at most two significant decimals.
fn parse_cents(s: &str) -> Result<u64, String> {
    let bad = |why: &str| format!("'{s}' {why}");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let whole = digits(whole).ok_or_else(|| bad("is not a price"))?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("is not a price"));
    }
    if frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0') {
        return Err(bad("has more than two decimals (prices are in cents)"));
    }
    let mut c = 0u64;
    for k in 0..2 {
        c = c * 10 + frac.as_bytes().get(k).map_or(0, |b| u64::from(b - b'0'));
    }
    let cents = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(c))
        .filter(|c| *c <= MAX_PRICE_C)
        .ok_or_else(|| bad("is too large"))?;
    if cents == 0 {
        return Err(bad("is not positive"));
    }
    Ok(cents)
}

/// A symbol name, upper-cased.
fn parse_sym(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= MAX_SYM_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(format!("'{s}' is not 1 to {MAX_SYM_LEN} of A-Z 0-9 . _ -"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Tape, TapeError> {
        Tape::read(Path::new("t.csv"), text.as_bytes())
    }

    #[test]
    fn times_and_prices() {
        assert_eq!(parse_ts("1700000000123456"), Ok(1_700_000_000_123_456));
        assert_eq!(parse_ts("1.5"), Ok(1_500_000));
        assert_eq!(parse_ts("34200.0000019"), Ok(34_200_000_001));
        assert_eq!(parse_ts("09:30:00.25"), Ok(34_200_250_000));
        assert_eq!(parse_ts("9:30:01"), Ok(34_201_000_000));
        for bad in [
            "", "x", "-1", "1e6", "9:61:00", "09:30", "1.2.3", "09:30:60",
        ] {
            assert!(parse_ts(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_cents("189.2"), Ok(18_920));
        assert_eq!(parse_cents("189.200"), Ok(18_920));
        assert_eq!(parse_cents("7"), Ok(700));
        for bad in ["0", "0.00", "-1", "1.234", "1,5", "abc", ".5", "1e3"] {
            assert!(parse_cents(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn universe_by_activity_and_offsets_from_the_first_tick() {
        let t = read(
            "# a comment\nts,sym,bid,ask,last,size\n\
             1000,msft,400.00,400.02,400.01,100\n\
             1500,AAPL,200.00,200.02,200.01,50\n\
             \n\
             1500,AAPL,200.01,200.03,200.02,150\n",
        )
        .unwrap();
        let u = t.universe();
        assert_eq!((u.name(0), u.name(1)), ("AAPL", "MSFT"));
        assert_eq!(u.symbols[0].weight, 2.0 / 3.0);
        assert_eq!(u.symbols[0].start_price, 200.01);
        assert_eq!(u.symbols[0].trade_size, 100.0);
        let offsets: Vec<(u64, u32)> = t.ticks().iter().map(|(o, r)| (*o, r.sym)).collect();
        assert_eq!(offsets, [(0, 1), (500, 0), (500, 0)]);
        assert_eq!(t.span_us(), 500);
    }

    #[test]
    fn bad_lines_are_named() {
        let cases = [
            ("1,A,1.00,1.01,1.00,1\n2,A,1.00,1.01\n", "line 2: 4 fields"),
            (
                "5,A,1,2,1,1\n4,A,1,2,1,1\n",
                "line 2: ts 4 goes back in time",
            ),
            (
                "1,A,2.00,1.00,1.50,1\n",
                "line 1: bid 2.00 is above ask 1.00",
            ),
            (
                "\n\n1,A,1.001,2,1,1\n",
                "line 3: bid: '1.001' has more than two decimals",
            ),
            ("1,A B,1,2,1,1\n", "line 1: sym: 'A B'"),
            ("1,A,1,2,1,-5\n", "line 1: size: '-5' is not a whole number"),
            ("ts,sym,bid,ask,price,size\n", "line 1: header must be"),
            ("soon,A,1,2,1,1\n", "line 1: ts: 'soon'"),
        ];
        for (text, want) in cases {
            let e = read(text).unwrap_err().to_string();
            assert!(
                e.starts_with("t.csv ") && e.contains(want),
                "{e:?} lacks {want:?}"
            );
        }
        let e = read("# only a comment\nts,sym,bid,ask,last,size\n").unwrap_err();
        assert!(e.to_string().contains("no ticks"), "{e}");
    }
}
