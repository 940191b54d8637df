//! The latency histogram: an HdrHistogram folded into log-spaced buckets and drawn as a
//! `BarChart` whose bar count follows the width of its area (as oha does).
//!
//! Log spacing because push latencies span four decades (a streaming p50 of 300 µs next to a
//! polling tail of 1 s): linear buckets would put everything in the first bar.

use hdrhistogram::Histogram;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph};
use ratatui::Frame;

use crate::theme::Theme;
use crate::widgets::fmt::{fmt_num, fmt_us_short};

/// One bucket: samples with `lo <= v < hi` (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub lo: u64,
    pub hi: u64,
    pub count: u64,
}

/// Folds `h` into `n` log-spaced buckets between its min and max. Every recorded sample lands in
/// exactly one bucket (the counts sum to `h.len()`).
pub fn log_buckets(h: &Histogram<u64>, n: usize) -> Vec<Bucket> {
    if h.is_empty() || n == 0 {
        return Vec::new();
    }
    let lo = h.min().max(1) as f64;
    let hi = (h.max().max(1) as f64).max(lo * 1.000_001);
    let span = (hi / lo).ln();
    let edge = |i: usize| (lo * (span * i as f64 / n as f64).exp()).round() as u64;
    let mut out: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            lo: edge(i),
            hi: edge(i + 1),
            count: 0,
        })
        .collect();
    for v in h.iter_recorded() {
        let x = (h.lowest_equivalent(v.value_iterated_to()).max(1) as f64).clamp(lo, hi);
        let i = ((x / lo).ln() / span * n as f64).floor() as usize;
        out[i.min(n - 1)].count += v.count_at_value();
    }
    out
}

/// Draws the histogram of `h` into `area` inside `block`, its bars in `bar_style` (the
/// transport's colour); bars are 5 cells wide (the width of a
/// latency label) with a 1-cell gap, so an 80-column half panel shows 6 bars and a wide one many.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    h: Option<&Histogram<u64>>,
    bar_style: Style,
    theme: &Theme,
) {
    let inner = block.inner(area);
    let h = match h {
        Some(h) if !h.is_empty() => h,
        _ => {
            frame.render_widget(
                Paragraph::new(Line::styled("no samples yet", theme.dim())).block(block),
                area,
            );
            return;
        }
    };
    let bar_w: u16 = 5;
    let n = ((inner.width + 1) / (bar_w + 1)).max(1) as usize;
    let buckets = log_buckets(h, n);
    let bars: Vec<Bar> = buckets
        .iter()
        .map(|b| {
            Bar::default()
                .value(b.count)
                .text_value(fmt_num(b.count as f64))
                .label(Line::from(fmt_us_short(b.lo as f64)))
                .style(bar_style)
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .block(block)
            .bar_width(bar_w)
            .bar_gap(1)
            .value_style(theme.selected())
            .data(BarGroup::default().bars(&bars)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_every_sample_and_are_log_spaced() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in [100u64, 150, 1_500, 5_000, 20_000, 50_000, 100_000] {
            h.record(v).unwrap();
        }
        let b = log_buckets(&h, 3);
        assert_eq!(b.len(), 3);
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), h.len());
        // 100 µs .. 100 ms in 3 buckets: one decade each.
        assert_eq!(b[0].count, 2);
        assert_eq!(b[1].count, 2);
        assert_eq!(b[2].count, 3);
        assert!(log_buckets(&Histogram::<u64>::new(3).unwrap(), 4).is_empty());
    }

    #[test]
    fn a_single_value_is_one_bucket() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        h.record_n(500, 10).unwrap();
        let b = log_buckets(&h, 4);
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 10);
    }
}
