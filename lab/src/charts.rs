//! SVG charts of a sweep (plotters' SVG backend: text is emitted as `<text>` elements, so no font
//! files are needed on the machine that draws them).
//!
//! Every chart plots one metric (or p50 and p99) against one matrix axis. Each line is one
//! transport and one combination of the *other* axes that vary, so `polling-waste` gets a line per
//! poll interval when plotted against the tick rate. Axes spanning 20× or more are drawn on a log
//! scale (values are log-transformed and the labels written back in real units, which keeps one
//! coordinate type for both cases). A transport has one colour in every chart
//! ([`Transport::colour`]); its second and later lines in a chart are lighter, with other markers.

use std::path::Path;

use plotters::prelude::*;
use tickbench_wire::Transport;

use crate::error::Error;
use crate::points::Point;
use crate::units::{fmt_dur, fmt_num, fmt_us};

/// A matrix axis a chart can use as its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Clients,
    Rate,
    PollInterval,
    ActionRate,
}

impl Dim {
    const ALL: [Dim; 4] = [Dim::Rate, Dim::Clients, Dim::PollInterval, Dim::ActionRate];

    fn value(self, p: &Point) -> Option<f64> {
        match self {
            Dim::Clients => p.clients.map(|c| c as f64),
            Dim::Rate => p.rate,
            Dim::PollInterval => p.poll_interval.map(|d| d.as_secs_f64()),
            Dim::ActionRate => p.action_rate,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Dim::Clients => "clients",
            Dim::Rate => "rate",
            Dim::PollInterval => "poll_interval",
            Dim::ActionRate => "action_rate",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Dim::Clients => "clients",
            Dim::Rate => "tick rate (ticks/s)",
            Dim::PollInterval => "poll interval (s)",
            Dim::ActionRate => "client requests/s (action rate)",
        }
    }

    /// Short tag for a series label: `c=100`, `rate=5`, `every 2s`, `act=0.5/s`.
    fn tag(self, p: &Point) -> Option<String> {
        Some(match self {
            Dim::Clients => format!("c={}", p.clients?),
            Dim::Rate => format!("rate={}", fmt_num(p.rate?)),
            Dim::PollInterval => format!("every {}", fmt_dur(p.poll_interval?)),
            Dim::ActionRate => format!("act={}/s", fmt_num(p.action_rate?)),
        })
    }
}

/// The axes with more than one distinct value, in [`Dim::ALL`] order (rate first).
pub fn varying(points: &[Point]) -> Vec<Dim> {
    Dim::ALL
        .into_iter()
        .filter(|d| {
            let mut v: Vec<f64> = points.iter().filter_map(|p| d.value(p)).collect();
            v.sort_by(|a, b| a.total_cmp(b));
            v.dedup();
            v.len() > 1
        })
        .collect()
}

/// What a chart plots.
#[derive(Clone, Copy)]
struct Metric {
    label: &'static str,
    get: fn(&Point) -> f64,
}

/// One chart written into the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name inside `charts/`.
    pub file: String,
    pub title: String,
}

/// One chart to draw.
struct Spec {
    file: String,
    title: String,
    x: Dim,
    metrics: Vec<Metric>,
    ylabel: &'static str,
    yfmt: fn(f64) -> String,
}

/// Draws every chart the points support into `dir`; returns those written, in report order.
pub fn write_all(points: &[Point], dir: &Path) -> Result<Vec<Chart>, Error> {
    let dims = varying(points);
    let mut out = Vec::new();
    if dims.is_empty() {
        return Ok(out);
    }
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let lat = [
        Metric {
            label: "p50",
            get: |p| p.p50_us,
        },
        Metric {
            label: "p99",
            get: |p| p.p99_us,
        },
    ];
    let mut specs: Vec<Spec> = Vec::new();
    for d in &dims {
        specs.push(Spec {
            file: format!("latency_vs_{}.svg", d.slug()),
            title: format!("Latency p50 (solid) and p99 (dashed) vs {}", d.title()),
            x: *d,
            metrics: lat.to_vec(),
            ylabel: "latency",
            yfmt: fmt_us,
        });
    }
    let primary = dims[0];
    let per_tick: [(&str, &str, Metric, &'static str); 3] = [
        (
            "requests_per_tick",
            "Requests per delivered tick",
            Metric {
                label: "req/tick",
                get: |p| p.requests_per_tick,
            },
            "requests per delivered tick",
        ),
        (
            "bytes_per_tick",
            "Bytes per delivered tick",
            Metric {
                label: "B/tick",
                get: |p| p.bytes_per_tick,
            },
            "bytes per delivered tick",
        ),
        (
            "cpu_per_tick",
            "Server CPU per delivered tick",
            Metric {
                label: "µs/tick",
                get: |p| p.server_cpu_us_per_tick,
            },
            "server CPU µs per delivered tick",
        ),
    ];
    for (slug, title, m, ylabel) in per_tick {
        specs.push(Spec {
            file: format!("{slug}_vs_{}.svg", primary.slug()),
            title: format!("{title} vs {}", primary.title()),
            x: primary,
            metrics: vec![m],
            ylabel,
            yfmt: fmt_small,
        });
    }
    if points
        .iter()
        .any(|p| p.requests_per_tick > 0.0 && p.empty_pct > 0.0)
    {
        specs.push(Spec {
            file: format!("empty_pct_vs_{}.svg", primary.slug()),
            title: format!("Empty responses (% of requests) vs {}", primary.title()),
            x: primary,
            metrics: vec![Metric {
                label: "empty %",
                get: |p| p.empty_pct,
            }],
            ylabel: "% of requests answered empty",
            yfmt: |v| format!("{v:.0} %"),
        });
    }
    for spec in specs {
        let path = dir.join(&spec.file);
        let drawn = draw(points, &dims, &spec, &path).map_err(|e| Error::Chart {
            message: e.to_string(),
            path,
        })?;
        if drawn {
            out.push(Chart {
                file: spec.file,
                title: spec.title,
            });
        }
    }
    Ok(out)
}

/// The transport's colour ([`Transport::colour`], the same in every chart and in the terminal),
/// mixed toward white for its second and later lines in one chart.
fn colour(t: Transport, nth: usize) -> RGBAColor {
    let (r, g, b) = t.colour();
    let f = (nth as f64 * 0.3).min(0.6);
    let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * f).round() as u8;
    RGBColor(mix(r), mix(g), mix(b)).to_rgba()
}

/// Axis labels of small quantities: `0`, `0.012`, `3.4`, `150`.
fn fmt_small(v: f64) -> String {
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
fn draw(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(t: Transport, clients: u64, p50: f64) -> Point {
        Point {
            transport: t,
            clients: Some(clients),
            rate: Some(10.0),
            poll_interval: None,
            action_rate: None,
            runs: 1,
            p50_us: p50,
            p99_us: p50 * 4.0,
            floor_p50_us: 20.0,
            requests_per_tick: 0.01,
            empty_pct: 0.0,
            bytes_per_tick: 150.0,
            server_cpu_us_per_tick: 4.0,
            deliveries_per_s: 1000.0,
            requests_per_s_per_client: 0.01,
            delivered: 1000,
            loss: 0,
            errors: 0,
            clients_receiving: clients,
            clients_asked: clients,
            saturated: false,
            incomplete: false,
        }
    }

    #[test]
    fn writes_svgs_for_varying_axes_only() {
        let dir = tempfile::tempdir().unwrap();
        let pts = vec![
            pt(Transport::Sse, 100, 200.0),
            pt(Transport::Sse, 10_000, 9000.0),
            pt(Transport::Longpoll, 100, 300.0),
            pt(Transport::Longpoll, 10_000, 20000.0),
        ];
        assert_eq!(varying(&pts), vec![Dim::Clients]);
        let charts = write_all(&pts, dir.path()).unwrap();
        let files: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "latency_vs_clients.svg",
                "requests_per_tick_vs_clients.svg",
                "bytes_per_tick_vs_clients.svg",
                "cpu_per_tick_vs_clients.svg"
            ]
        );
        let svg = std::fs::read_to_string(dir.path().join("latency_vs_clients.svg")).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("longpoll p99"));
        assert!(svg.contains("log scale"), "10 000 / 100 spans 100×");

        // a point without the x axis is drawn as a reference line
        let mut with_ref = pts.clone();
        let mut r = pt(Transport::Stream, 100, 150.0);
        r.clients = None;
        with_ref.push(r);
        write_all(&with_ref, dir.path()).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("latency_vs_clients.svg")).unwrap();
        assert!(svg.contains("stream (reference) p50"));

        // nothing varies → no charts, no error
        let charts = write_all(&pts[..1], dir.path()).unwrap();
        assert!(charts.is_empty());
    }

    #[test]
    fn a_transport_keeps_its_colour_in_every_chart() {
        let dir = tempfile::tempdir().unwrap();
        let hex = |t: Transport| {
            let (r, g, b) = t.colour();
            format!("#{r:02X}{g:02X}{b:02X}")
        };
        // sse listed first in one sweep, second in another: same colour both times
        for order in [
            [Transport::Sse, Transport::Longpoll],
            [Transport::Longpoll, Transport::Sse],
        ] {
            let pts: Vec<Point> = order
                .iter()
                .flat_map(|t| [pt(*t, 100, 200.0), pt(*t, 1000, 400.0)])
                .collect();
            write_all(&pts, dir.path()).unwrap();
            let svg = std::fs::read_to_string(dir.path().join("latency_vs_clients.svg"))
                .unwrap()
                .to_uppercase();
            for t in order {
                assert!(svg.contains(&hex(t)), "{t} in {}", hex(t));
            }
        }
        assert_ne!(colour(Transport::Poll, 0), colour(Transport::Poll, 1));
    }
}
