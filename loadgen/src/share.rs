//! Shares written on the command line (`10%`, `0.5%`, `0.1`) as fractions, one syntax for every
//! flag that takes one (`--slow-clients`, the `--chaos` rates).

/// `10%`, `0.5%` or a bare fraction such as `0.1`, as a fraction within 0..=1; `None` otherwise.
pub fn fraction(s: &str) -> Option<f64> {
    let v = s.trim();
    let parsed = match v.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => v.parse::<f64>(),
    };
    parsed
        .ok()
        .filter(|f| f.is_finite() && (0.0..=1.0).contains(f))
}
