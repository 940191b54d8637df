//! Drawing one chart as SVG with plotters: a series per transport, log axes when values span 20×,
//! reference lines for points without the x axis.

use std::path::Path;

use plotters::prelude::*;
use tickbench_wire::Transport;

use super::axis::Dim;
use super::spec::Spec;
use crate::points::Point;

/// The transport's colour ([`Transport::colour`], the same in every chart and in the terminal),
/// mixed toward white for its second and later lines in one chart.
pub(crate) fn colour(t: Transport, nth: usize) -> RGBAColor {
    let (r, g, b) = t.colour();
    let f = (nth as f64 * 0.3).min(0.6);
    let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * f).round() as u8;
    RGBColor(mix(r), mix(g), mix(b)).to_rgba()
}

/// Axis labels of small quantities: `0`, `0.012`, `3.4`, `150`.
pub(crate) fn fmt_small(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Values spanning 20× or more (all positive) go on a log axis.
fn wants_log(v: &[f64]) -> bool {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(0.0, f64::max);
    min > 0.0 && max / min >= 20.0
}

/// A padded range around `[lo, hi]`, never empty.
fn span(lo: f64, hi: f64) -> (f64, f64) {
    if (hi - lo).abs() < 1e-12 {
        let pad = if lo.abs() > 1e-12 {
            lo.abs() * 0.1
        } else {
            1.0
        };
        (lo - pad, hi + pad)
    } else {
        let pad = (hi - lo) * 0.06;
        (lo - pad, hi + pad)
    }
}

/// Draws one chart; false when the points give it fewer than two x values or no y value.
pub(crate) fn draw(
    points: &[Point],
    dims: &[Dim],
    spec: &Spec,
    path: &Path,
) -> Result<bool, DrawingAreaErrorKind<std::io::Error>> {
    let Spec {
        x,
        metrics,
        title,
        ylabel,
        yfmt,
        ..
    } = spec;
    let (x, yfmt) = (*x, *yfmt);
    // Series: transport + the other varying axes.
    let others: Vec<Dim> = dims.iter().copied().filter(|d| *d != x).collect();
    let mut series: Vec<(String, Vec<&Point>)> = Vec::new();
    for p in points.iter().filter(|p| x.value(p).is_some()) {
        let mut name = p.transport.name().to_string();
        for d in &others {
            if let Some(t) = d.tag(p) {
                name.push(' ');
                name.push_str(&t);
            }
        }
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(p),
            None => series.push((name, vec![p])),
        }
    }
    // The how-manyth line of its transport each series is (a poll line per interval): it keeps
    // the transport's colour, lightened, with its own marker.
    let mut seen = [0usize; Transport::COUNT];
    let mut nth = |t: Transport| {
        let n = seen[t.index()];
        seen[t.index()] += 1;
        n
    };
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|(_, v)| v.iter().filter_map(|p| x.value(p)))
        .collect();
    // Points without this axis (SSE in the piggyback sweep) become flat reference lines.
    let refs: Vec<&Point> = points.iter().filter(|p| x.value(p).is_none()).collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .chain(refs.iter().copied())
        .flat_map(|p| metrics.iter().map(|m| (m.get)(p)))
        .filter(|v| v.is_finite())
        .collect();
    let mut distinct = xs.clone();
    distinct.sort_by(|a, b| a.total_cmp(b));
    distinct.dedup();
    if distinct.len() < 2 || ys.is_empty() {
        return Ok(false);
    }
    let (xlog, ylog) = (
        wants_log(&xs),
        wants_log(&ys.iter().copied().filter(|v| *v > 0.0).collect::<Vec<_>>())
            && ys.iter().all(|v| *v > 0.0),
    );
    let tx = move |v: f64| if xlog { v.log10() } else { v };
    let ty = move |v: f64| if ylog { v.log10() } else { v };
    let fold = |v: &[f64], f: &dyn Fn(f64) -> f64| {
        v.iter()
            .map(|a| f(*a))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), a| {
                (lo.min(a), hi.max(a))
            })
    };
    let (x0, x1) = fold(&xs, &tx);
    let (y0, y1) = fold(&ys, &ty);
    let (x0, x1) = span(x0, x1);
    let (mut y0, y1) = span(y0, y1);
    if !ylog && y0 < 0.0 && ys.iter().all(|v| *v >= 0.0) {
        y0 = 0.0;
    }

    let root = SVGBackend::new(path, (860, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(78)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let integral = distinct.iter().all(|v| v.fract() == 0.0);
    let xfmt = move |v: &f64| {
        let r = if xlog { 10f64.powf(*v) } else { *v };
        if integral && r >= 1.0 {
            format!("{r:.0}")
        } else {
            fmt_small(r)
        }
    };
    let yf = move |v: &f64| yfmt(if ylog { 10f64.powf(*v) } else { *v });
    chart
        .configure_mesh()
        .x_desc(format!(
            "{}{}",
            x.title(),
            if xlog { " — log scale" } else { "" }
        ))
        .y_desc(format!(
            "{ylabel}{}",
            if ylog { " — log scale" } else { "" }
        ))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yf)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (name, pts) in series.iter_mut() {
        pts.sort_by(|a, b| {
            x.value(a)
                .unwrap_or(0.0)
                .total_cmp(&x.value(b).unwrap_or(0.0))
        });
        let n = nth(pts[0].transport);
        let color = colour(pts[0].transport, n);
        for (j, m) in metrics.iter().enumerate() {
            let data: Vec<(f64, f64)> = pts
                .iter()
                .filter_map(|p| {
                    let y = (m.get)(p);
                    let xv = x.value(p)?;
                    (y.is_finite() && (!ylog || y > 0.0)).then(|| (tx(xv), ty(y)))
                })
                .collect();
            let style = ShapeStyle::from(&color).stroke_width(2);
            let label = if metrics.len() > 1 {
                format!("{name} {}", m.label)
            } else {
                name.clone()
            };
            if j == 0 {
                chart
                    .draw_series(LineSeries::new(data.clone(), style))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            } else {
                chart
                    .draw_series(DashedLineSeries::new(data.clone(), 6, 4, style))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 6, y)], style));
            }
            let fill = ShapeStyle::from(&color).filled();
            match n % 3 {
                0 => chart.draw_series(data.iter().map(|&(a, b)| Circle::new((a, b), 3, fill)))?,
                1 => chart.draw_series(
                    data.iter()
                        .map(|&(a, b)| TriangleMarker::new((a, b), 4, fill)),
                )?,
                _ => chart.draw_series(data.iter().map(|&(a, b)| Cross::new((a, b), 3, fill)))?,
            };
        }
    }
    for p in &refs {
        let color = colour(p.transport, nth(p.transport));
        let style = ShapeStyle::from(&color).stroke_width(1);
        let mut name = format!("{} (reference", p.transport.name());
        for d in &others {
            if let Some(t) = d.tag(p) {
                name.push_str(", ");
                name.push_str(&t);
            }
        }
        name.push(')');
        for (j, m) in metrics.iter().enumerate() {
            let y = (m.get)(p);
            if !y.is_finite() || (ylog && y <= 0.0) {
                continue;
            }
            let line = vec![(x0, ty(y)), (x1, ty(y))];
            let label = if metrics.len() > 1 {
                format!("{name} {}", m.label)
            } else {
                name.clone()
            };
            let dash = if j == 0 { 12 } else { 4 };
            chart
                .draw_series(DashedLineSeries::new(line, dash, 4, style))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(true)
}
