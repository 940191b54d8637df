//! The percentile-spectrum chart: latency against percentile on a "nines" axis (50%, 90%, 99%,
//! 99.9%, …), both logarithmic, as HdrHistogram's plotter draws it. The tail is where transports
//! differ, and a linear percentile axis would squeeze p99–p100 into one column.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition, Paragraph};
use ratatui::Frame;

use crate::theme::Theme;
use crate::widgets::fmt::fmt_us_short;

/// Deepest percentile drawn: 99.999%.
const MAX_NINES: f64 = 5.0;

/// One curve: `(quantile in [0, 1], latency µs)` points, sorted by quantile.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Quantile → position on the nines axis (0 = p0, 1 = p90, 2 = p99, …).
pub fn nines(q: f64) -> f64 {
    if q >= 1.0 {
        MAX_NINES
    } else {
        (-(1.0 - q.max(0.0)).log10()).min(MAX_NINES)
    }
}

/// Draws `curves` (each with its style) into `area` inside `block`.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    curves: &[(Curve, Style)],
    theme: &Theme,
) {
    let data: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|(c, _)| {
            c.points
                .iter()
                .filter(|(_, v)| *v > 0.0)
                .map(|&(q, v)| (nines(q), v.log10()))
                .collect()
        })
        .collect();
    let all = data.iter().flatten();
    let (ymin, ymax) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| {
        (a.min(y), b.max(y))
    });
    if !ymin.is_finite() {
        frame.render_widget(
            Paragraph::new(Line::styled("no latency data", theme.dim())).block(block),
            area,
        );
        return;
    }
    let xmax = data
        .iter()
        .flatten()
        .map(|p| p.0)
        .fold(2.0_f64, f64::max)
        .ceil()
        .min(MAX_NINES);
    // Whole decades on y so the labels are round numbers.
    let (y0, y1) = (ymin.floor(), ymax.ceil().max(ymin.floor() + 1.0));
    let datasets: Vec<Dataset> = curves
        .iter()
        .zip(&data)
        .enumerate()
        .map(|(i, ((c, style), d))| {
            // Without colour, overlaid curves are told apart by their marker.
            let marker = match (theme.color, i) {
                (false, 1) => Marker::Dot,
                (false, 2..) => Marker::Block,
                _ => Marker::Braille,
            };
            Dataset::default()
                .name(c.name.clone())
                .marker(marker)
                .graph_type(GraphType::Line)
                .style(*style)
                .data(d)
        })
        .collect();
    let xlabels: Vec<Span> = (0..=xmax as usize)
        .map(|i| Span::raw(pct_label(i)))
        .collect();
    let ylabels: Vec<Span> = (y0 as i32..=y1 as i32)
        .map(|e| Span::raw(fmt_us_short(10f64.powi(e))))
        .collect();
    frame.render_widget(
        Chart::new(datasets)
            .block(block)
            .legend_position(Some(LegendPosition::TopLeft))
            .hidden_legend_constraints((
                ratatui::layout::Constraint::Percentage(60),
                ratatui::layout::Constraint::Percentage(60),
            ))
            .x_axis(
                Axis::default()
                    .bounds([0.0, xmax])
                    .labels(xlabels)
                    .style(theme.dim()),
            )
            .y_axis(
                Axis::default()
                    .bounds([y0, y1])
                    .labels(ylabels)
                    .style(theme.dim()),
            ),
        area,
    );
}

/// `0%`, `90%`, `99%`, `99.9%`, …
fn pct_label(nines: usize) -> String {
    match nines {
        0 => "0%".into(),
        1 => "90%".into(),
        n => format!("99.{}%", "9".repeat(n - 2)).replace("99.%", "99%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(0.9) - 1.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-6);
        assert_eq!(nines(1.0), MAX_NINES);
        assert_eq!(pct_label(2), "99%");
        assert_eq!(pct_label(3), "99.9%");
    }
}
