//! `latency.svg`: the percentile spectrum of every transport on one chart, the way HdrHistogram
//! plots are drawn: x is the percentile on a log scale of 1/(1-p) (0 %, 90 %, 99 %, 99.9 %, …), so
//! the tail gets as much room as the median; y is latency in ms.
//!
//! Drawn with plotters' SVG backend and no font files: text is emitted as SVG `<text>` elements
//! and the viewer's fonts render it.

use hdrhistogram::Histogram;
use plotters::prelude::*;
use tickbench_wire::Transport;

use crate::error::Error;

/// Points per transport curve.
const STEPS: usize = 400;

/// Renders the chart for `(transport, histogram)` curves as an SVG document, each curve in its
/// transport's colour ([`Transport::colour`]) so it matches the terminal's charts.
pub fn render_svg(curves: &[(Transport, &Histogram<u64>)]) -> Result<String, Error> {
    // x extends to the deepest percentile any curve has data for, at least 99.9 %.
    let x_max = curves
        .iter()
        .map(|(_, h)| (h.len().max(1) as f64).log10().ceil())
        .fold(3.0_f64, f64::max)
        .min(6.0);
    let series: Vec<(Transport, Vec<(f64, f64)>)> = curves
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(t, h)| (*t, spectrum(h, x_max)))
        .collect();
    // Log-scale y: a 1 s polling curve and a sub-millisecond stream curve must both stay legible.
    let (y_lo, y_hi) = series
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold((f64::MAX, 0.0_f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let y_min = if y_lo == f64::MAX {
        0.01
    } else {
        (y_lo * 0.8).max(0.001)
    };
    let y_max = (y_hi * 1.25).max(y_min * 10.0);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 540)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("End-to-end tick latency by percentile", ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_labels(x_max as usize + 1)
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| format!("{y}"))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .x_desc("percentile")
            .y_desc("latency (ms, log scale)")
            .draw()
            .map_err(plot_err)?;
        for (transport, pts) in &series {
            let (r, g, b) = transport.colour();
            let color = RGBColor(r, g, b);
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|&(x, y)| (x, y.max(y_min))),
                    color.stroke_width(2),
                ))
                .map_err(plot_err)?
                .label(transport.name())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// Writes the chart to `path`.
pub fn write_svg(
    path: &std::path::Path,
    curves: &[(Transport, &Histogram<u64>)],
) -> Result<(), Error> {
    std::fs::write(path, render_svg(curves)?).map_err(Error::write(path))
}

/// (log10(1/(1-p)), latency ms) points from p = 0 to the last percentile with data.
fn spectrum(h: &Histogram<u64>, x_max: f64) -> Vec<(f64, f64)> {
    // Beyond 1 - 1/count every percentile is the max: stop the curve there, and add the max.
    let x_end = (h.len() as f64).log10().min(x_max);
    let mut pts: Vec<(f64, f64)> = (0..=STEPS)
        .map(|i| x_end * i as f64 / STEPS as f64)
        .map(|x| {
            let q = 1.0 - 10f64.powf(-x);
            (x, h.value_at_quantile(q) as f64 / 1000.0)
        })
        .collect();
    pts.push((x_end, h.max() as f64 / 1000.0));
    pts
}

/// 0 → "0%", 1 → "90%", 2 → "99%", 3 → "99.9%"; other x as the percentile it stands for.
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

fn plot_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Encode {
        path: "latency.svg".into(),
        message: format!("{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_hdr_convention() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(4.0), "99.99%");
    }

    #[test]
    fn svg_has_curves_and_text() {
        let mut a = crate::stats::new_histogram();
        let mut b = crate::stats::new_histogram();
        for v in 1..=5000u64 {
            a.record(v * 3).unwrap();
            b.record(v * 7 + 1000).unwrap();
        }
        let svg = render_svg(&[(Transport::Poll, &a), (Transport::Sse, &b)]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100]);
        assert!(svg.contains("<polyline"), "no curves");
        for text in ["poll", "sse", "99.9%", "latency (ms"] {
            assert!(svg.contains(text), "missing text {text}");
        }
        // An empty phase draws no curve but still a valid chart.
        let empty = crate::stats::new_histogram();
        assert!(render_svg(&[(Transport::Poll, &empty)])
            .unwrap()
            .contains("</svg>"));
    }
}
