//! SVG charts of a sweep (plotters' SVG backend: text is emitted as `<text>` elements, so no font
//! files are needed on the machine that draws them).
//!
//! Every chart plots one metric (or p50 and p99) against one matrix axis. Each line is one
//! transport and one combination of the *other* axes that vary, so `polling-waste` gets a line per
//! poll interval when plotted against the tick rate. Axes spanning 20× or more are drawn on a log
//! scale (values are log-transformed and the labels written back in real units, which keeps one
//! coordinate type for both cases). A transport has one colour in every chart
//! ([`Transport::colour`](tickbench_wire::Transport::colour)); its second and later lines in a chart are lighter, with other markers.
//!
//! [`axis`] names the x axes, [`spec`] what a chart plots, [`draw`] renders one; this file picks
//! the charts a sweep gets.

pub mod axis;
pub mod draw;
pub mod spec;

use std::path::Path;

pub use axis::{varying, Dim};

use crate::error::Error;
use crate::points::Point;
use crate::units::fmt_us;
use draw::{draw, fmt_small};
use spec::{Metric, Spec};

/// One chart written into the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name inside `charts/`.
    pub file: String,
    pub title: String,
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

#[cfg(test)]
mod tests {
    use tickbench_wire::Transport;

    use super::draw::colour;
    use super::*;

    fn pt(t: Transport, clients: u64, p50: f64) -> Point {
        Point {
            transport: t,
            clients: Some(clients),
            rate: Some(10.0),
            poll_interval: None,
            action_rate: None,
            link: tickbench_wire::Link::default(),
            target: None,
            runs: 1,
            p50_us: p50,
            p99_us: p50 * 4.0,
            floor_p50_us: 20.0,
            requests_per_tick: 0.01,
            empty_pct: 0.0,
            bytes_per_tick: 150.0,
            server_cpu_us_per_tick: 4.0,
            deliveries_per_s: 1000.0,
            server_rss_bytes: 0.0,
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
