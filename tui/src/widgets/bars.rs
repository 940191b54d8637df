//! One-line graphics drawn with block characters: a progress bar and a sparkline, as strings that
//! fit in a table cell or a header line.

/// A text progress bar of `width` cells: `████████░░░░`. Text rather than ratatui's `Gauge` so it
/// stays readable without colour and shows up in snapshot tests.
pub fn text_bar(ratio: f64, width: usize) -> String {
    let r = if ratio.is_finite() {
        ratio.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let full = ((r * width as f64).round() as usize).min(width);
    let mut s = "█".repeat(full);
    s.push_str(&"░".repeat(width - full));
    s
}

/// A one-line sparkline of `values` (newest last) using the eight block heights, scaled between the
/// series' own min and max (a flat series is drawn at mid height).
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &values[values.len().saturating_sub(width)..];
    let (lo, hi) = tail
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let mut s: String = tail
        .iter()
        .map(|&v| {
            if hi > lo {
                let i = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                BARS[i.min(7)]
            } else {
                BARS[3]
            }
        })
        .collect();
    // Pad on the left so the newest point is always in the same column.
    let pad = width.saturating_sub(tail.len());
    s.insert_str(0, &" ".repeat(pad));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_bars() {
        assert_eq!(text_bar(0.5, 4), "██░░");
        assert_eq!(text_bar(f64::NAN, 2), "░░");
        assert_eq!(sparkline(&[1.0, 2.0, 3.0], 4), " ▁▅█");
        assert_eq!(sparkline(&[5.0, 5.0], 2), "▄▄");
    }
}
