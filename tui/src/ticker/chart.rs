//! The detail view's graphics, one terminal column per candle (two, with a gap, while they fit),
//! newest at the right: a
//! candlestick chart with a price axis, volume bars in eighth-blocks under it, and a time axis.
//! Up candles (close ≥ open) have a `█` body, down ones `▒`, so direction reads without colour;
//! wicks are `│`, an unchanged candle is `━`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::theme::Theme;
use crate::ticker::candles::Candle;

/// Width of the price axis at the right of the chart: ` 1234.56`.
pub const AXIS_W: u16 = 9;

/// Columns for candles beside the price axis in `width` columns.
pub fn columns(width: u16) -> usize {
    width.saturating_sub(AXIS_W) as usize
}

/// Where the candles go: the newest that fit, the column of the first, and the columns per
/// candle (2, a candle and a gap, while they fit that way; else 1).
struct Placement<'a> {
    shown: &'a [Candle],
    x0: u16,
    step: u16,
}

impl Placement<'_> {
    fn x(&self, i: usize) -> u16 {
        self.x0 + i as u16 * self.step
    }
}

fn place(candles: &[Candle], area: Rect) -> Placement<'_> {
    let cols = columns(area.width);
    let step = if candles.len() * 2 <= cols { 2 } else { 1 };
    let shown = visible(candles, area.width);
    let used = (shown.len() * step) as u16;
    Placement {
        shown,
        x0: area.x + (cols as u16).saturating_sub(used),
        step: step as u16,
    }
}

/// The newest candles that fit in `width` columns.
pub fn visible(candles: &[Candle], width: u16) -> &[Candle] {
    &candles[candles.len().saturating_sub(columns(width))..]
}

/// Draws `candles` (those that fit) as candlesticks in `area`, with high, middle and low prices
/// on the axis.
pub fn candlesticks(buf: &mut Buffer, area: Rect, candles: &[Candle], th: &Theme) {
    if area.height == 0 || area.width <= AXIS_W {
        return;
    }
    let p = place(candles, area);
    let shown = p.shown;
    if shown.is_empty() {
        return;
    }
    let hi = shown.iter().map(|c| c.high).fold(f64::MIN, f64::max);
    let lo = shown.iter().map(|c| c.low).fold(f64::MAX, f64::min);
    let rows = area.height;
    // Row of a price: the top row is `hi`, the bottom row `lo`; a flat range sits in the middle.
    let row = |p: f64| -> u16 {
        if hi > lo {
            let r = ((hi - p) / (hi - lo) * f64::from(rows - 1)).round() as u16;
            area.y + r.min(rows - 1)
        } else {
            area.y + rows / 2
        }
    };
    for (i, c) in shown.iter().enumerate() {
        let x = p.x(i);
        let style = if c.up() { th.up() } else { th.down() };
        for y in row(c.high)..=row(c.low) {
            set(buf, x, y, "│", style);
        }
        let (top, bottom) = (row(c.open.max(c.close)), row(c.open.min(c.close)));
        let body = if c.open == c.close {
            "━"
        } else if c.up() {
            "█"
        } else {
            "▒"
        };
        for y in top..=bottom {
            set(buf, x, y, body, style);
        }
    }
    let ax = area.x + area.width - AXIS_W;
    let label = |p: f64| format!(" {p:>8.2}");
    let mid_y = area.y + (rows - 1) / 2;
    let mut labels = vec![(area.y, label(hi))];
    if rows >= 3 {
        labels.push((mid_y, label((hi + lo) / 2.0)));
    }
    if rows >= 2 {
        labels.push((area.y + rows - 1, label(lo)));
    }
    for (y, text) in labels {
        buf.set_string(ax, y, text, th.dim());
    }
}

/// Draws the volume of each candle (aligned with [`candlesticks`]) as a bar of eighth-blocks
/// rising from the bottom of `area`, scaled to the largest shown; the axis column shows it.
pub fn volume_bars(buf: &mut Buffer, area: Rect, candles: &[Candle], th: &Theme) {
    const EIGHTHS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
    if area.height == 0 || area.width <= AXIS_W {
        return;
    }
    let p = place(candles, area);
    let max = p.shown.iter().map(|c| c.volume).max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let total = u64::from(area.height) * 8;
    for (i, c) in p.shown.iter().enumerate() {
        let x = p.x(i);
        // At least one eighth for any trade, so a small candle's volume is not invisible.
        let mut eighths = (c.volume * total).div_ceil(max).min(total);
        let style = if c.up() { th.up() } else { th.down() };
        for k in 0..area.height {
            let y = area.y + area.height - 1 - k;
            let n = eighths.min(8);
            eighths -= n;
            if n > 0 {
                set(buf, x, y, EIGHTHS[n as usize], style);
            }
        }
    }
    let ax = area.x + area.width - AXIS_W;
    buf.set_string(
        ax,
        area.y,
        format!(" {:>8}", crate::widgets::fmt::fmt_num(max as f64)),
        th.dim(),
    );
}

/// The start times of the first and the last shown candle, `HH:MM:SS` UTC, under the chart.
pub fn time_axis(buf: &mut Buffer, area: Rect, candles: &[Candle], th: &Theme) {
    if area.height == 0 || area.width <= AXIS_W {
        return;
    }
    let p = place(candles, area);
    let (Some(first), Some(last)) = (p.shown.first(), p.shown.last()) else {
        return;
    };
    let right_end = area.x + columns(area.width) as u16;
    let last_label = hms(last.start_s);
    let last_x = right_end.saturating_sub(last_label.len() as u16);
    if p.shown.len() > 1 && p.x0 + 9 <= last_x {
        buf.set_string(p.x0, area.y, hms(first.start_s), th.dim());
    }
    buf.set_string(last_x.max(area.x), area.y, last_label, th.dim());
    buf.set_string(right_end, area.y, "  UTC", th.dim());
}

/// `HH:MM:SS` of a Unix time, UTC.
pub fn hms(unix_s: u64) -> String {
    let d = unix_s % 86_400;
    format!("{:02}:{:02}:{:02}", d / 3_600, d / 60 % 60, d % 60)
}

fn set(buf: &mut Buffer, x: u16, y: u16, symbol: &str, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_symbol(symbol).set_style(style);
    }
}
