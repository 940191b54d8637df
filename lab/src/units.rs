//! How quantities are written: one spelling of numbers, durations, latencies, ETAs for cell ids,
//! file names, charts, sentences.
//!
//! Every module that prints a number with a unit asks here, so a cell id, a chart label and a
//! verdict sentence spell `0.5` or `2s` the same way.

use std::time::Duration;

/// `5`, `0.5`, `2.25`: no trailing zeros, usable in file names.
pub fn fmt_num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `2s`, `500ms`, `1m`.
pub fn fmt_dur(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
}

/// `812 µs`, `3.2 ms`, `1.50 s`; `–` for no measurement (NaN).
pub fn fmt_us(us: f64) -> String {
    if !us.is_finite() {
        "–".into()
    } else if us >= 1e6 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{us:.0} µs")
    }
}

/// `4m 10s`, `35s`: a remaining or elapsed wall time.
pub fn fmt_eta(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formatting() {
        assert_eq!(fmt_num(5.0), "5");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_dur(Duration::from_millis(1500)), "1s500ms");
    }
}
