//! Number formatting that fits narrow columns: latencies, counts and rates, durations.

/// A latency in µs, in at most 6 characters: `812µs`, `1.20ms`, `35.2ms`, `412ms`, `1.25s`, `75s`.
pub fn fmt_us(us: f64) -> String {
    if !us.is_finite() || us < 0.0 {
        return "-".into();
    }
    if us < 1_000.0 {
        format!("{us:.0}µs")
    } else if us < 10_000.0 {
        format!("{:.2}ms", us / 1e3)
    } else if us < 100_000.0 {
        format!("{:.1}ms", us / 1e3)
    } else if us < 1_000_000.0 {
        format!("{:.0}ms", us / 1e3)
    } else if us < 10_000_000.0 {
        format!("{:.2}s", us / 1e6)
    } else {
        format!("{:.0}s", us / 1e6)
    }
}

/// A latency in at most 5 characters, for bar labels and axis ticks: units are kept (`812µs`,
/// `1.2ms`, `35ms`, `412ms`, `1.2s`, `75s`) by dropping decimals early.
pub fn fmt_us_short(us: f64) -> String {
    if !us.is_finite() || us < 0.0 {
        return "-".into();
    }
    let s = if us < 1_000.0 {
        format!("{us:.0}µs")
    } else if us < 10_000.0 {
        format!("{:.1}ms", us / 1e3)
    } else if us < 1_000_000.0 {
        format!("{:.0}ms", us / 1e3)
    } else if us < 10_000_000.0 {
        format!("{:.1}s", us / 1e6)
    } else {
        format!("{:.0}s", us / 1e6)
    };
    // Axis ticks fall on round values: `1ms`, not `1.0ms`.
    s.replace(".0ms", "ms").replace(".0s", "s")
}

/// A count or rate in at most 6 characters: `0`, `12.5`, `950`, `12.3k`, `4.56M`.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a < 10.0 && v.fract() != 0.0 {
        format!("{v:.1}")
    } else if a < 10_000.0 {
        format!("{v:.0}")
    } else if a < 1e6 {
        format!("{:.1}k", v / 1e3)
    } else if a < 1e9 {
        format!("{:.2}M", v / 1e6)
    } else {
        format!("{:.2}G", v / 1e9)
    }
}

/// A duration as `1m05s` / `42s` / `1h02m`: whole seconds, what a run header needs.
pub fn fmt_secs(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_formats_fit_their_columns() {
        for us in [
            0.0,
            7.0,
            812.0,
            1_234.0,
            35_210.0,
            412_000.0,
            1_250_000.0,
            75e6,
        ] {
            assert!(fmt_us(us).chars().count() <= 6, "{}", fmt_us(us));
            assert!(
                fmt_us_short(us).chars().count() <= 5,
                "{}",
                fmt_us_short(us)
            );
        }
        assert_eq!(fmt_us(812.0), "812µs");
        assert_eq!(fmt_us(1_234.0), "1.23ms");
        assert_eq!(fmt_us(412_000.0), "412ms");
        assert_eq!(fmt_us_short(1_234.0), "1.2ms");
    }

    #[test]
    fn numbers_and_bars() {
        assert_eq!(fmt_num(950.0), "950");
        assert_eq!(fmt_num(12_345.0), "12.3k");
        assert_eq!(fmt_secs(65.0), "1m05s");
    }
}
