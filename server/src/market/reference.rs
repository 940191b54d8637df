//! The committed table of the built-in symbols' reference quotes (`server/data/reference.csv`):
//! the price each opens at, how much it moves, how large its trades are and how wide its spread.
//!
//! The table is compiled in (`include_str!`) and parsed when a universe is built; a unit test
//! parses it, so a malformed row fails the build's tests rather than a server start.

/// The table, as committed.
pub const REFERENCE_CSV: &str = include_str!("../../data/reference.csv");

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub sym: &'static str,
    /// Reference (opening) price, USD.
    pub price: f64,
    /// Annualised volatility.
    pub vol: f64,
    /// Mean trade size, shares.
    pub size: f64,
    /// Typical bid/ask spread, cents.
    pub spread_c: f64,
}

impl Reference {
    /// The spread as a fraction of the price, as the random walk quotes it.
    pub fn spread(&self) -> f64 {
        self.spread_c / (self.price * 100.0)
    }
}

/// The rows of [`REFERENCE_CSV`], most popular first.
///
/// # Panics
/// If the committed table is malformed; `reference_table_parses` keeps it well-formed.
pub fn table() -> Vec<Reference> {
    parse(REFERENCE_CSV).unwrap_or_else(|e| panic!("server/data/reference.csv: {e}"))
}

/// Parses the table: `#` comments, one header line, then `sym,price,vol,size,spread_c` rows.
fn parse(text: &'static str) -> Result<Vec<Reference>, String> {
    let mut rows = Vec::new();
    let mut header = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !header {
            if line != "sym,price,vol,size,spread_c" {
                return Err(format!("line {}: unexpected header '{line}'", i + 1));
            }
            header = true;
            continue;
        }
        let f: Vec<&'static str> = line.split(',').map(str::trim).collect();
        let num = |k: usize| -> Result<f64, String> {
            f.get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| format!("line {}: column {} is not a positive number", i + 1, k + 1))
        };
        if f.len() != 5 {
            return Err(format!("line {}: {} columns, want 5", i + 1, f.len()));
        }
        rows.push(Reference {
            sym: f[0],
            price: num(1)?,
            vol: num(2)?,
            size: num(3)?,
            spread_c: num(4)?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_table_parses() {
        let t = table();
        assert!(t.len() >= 100, "{} rows", t.len());
        let spy = t.iter().find(|r| r.sym == "SPY").expect("SPY");
        assert!((300.0..1000.0).contains(&spy.price));
        let mut names: Vec<&str> = t.iter().map(|r| r.sym).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), t.len(), "duplicate symbols");
        for r in &t {
            assert!(r.vol < 2.0 && r.spread() < 0.01, "{r:?}");
            assert!(r.sym.bytes().all(|b| b.is_ascii_uppercase()), "{r:?}");
        }
    }

    #[test]
    fn malformed_rows_name_the_line() {
        let e = parse("sym,price,vol,size,spread_c\nAAPL,1,0.2,100\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        let e = parse("sym,price,vol,size,spread_c\nAAPL,x,0.2,100,1\n").unwrap_err();
        assert!(e.contains("column 2"), "{e}");
    }
}
