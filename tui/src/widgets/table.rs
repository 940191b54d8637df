//! The comparison table: one row per transport, the same columns on the live dashboard and in the
//! results viewer, so a saved run reads exactly like the live one did.
//!
//! At 80 columns every column does not fit; the least essential ones (`p90`, `req/s`, `max`) are
//! dropped first so the percentiles that matter (p50, p99, p99.9) and the loss counters always
//! stay.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;
use tickbench_wire::{Floor, LatencySummary, TransportSummary};

use crate::theme::Theme;
use crate::widgets::fmt::{fmt_num, fmt_us};

/// Where a row's phase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    /// Not started yet: the row is a placeholder.
    Pending,
    /// Running: figures are the measured window so far.
    Running,
    /// Finished: the phase's final row.
    Done,
}

/// One transport's figures, from a finished phase's [`TransportSummary`] or a running phase's
/// accumulated seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct CompRow {
    pub name: String,
    pub status: RowStatus,
    pub clients: u64,
    pub deliveries_per_s: f64,
    pub requests_per_s: f64,
    pub empty_pct: f64,
    /// None until the first latency sample.
    pub latency: Option<LatencySummary>,
    /// Unannounced loss: gaps + out-of-order.
    pub gaps: u64,
    pub dups: u64,
    pub errors: u64,
    pub saturated: bool,
}

impl CompRow {
    /// An empty row for a phase that has not started.
    pub fn pending(name: &str) -> Self {
        Self {
            name: name.to_string(),
            status: RowStatus::Pending,
            clients: 0,
            deliveries_per_s: 0.0,
            requests_per_s: 0.0,
            empty_pct: 0.0,
            latency: None,
            gaps: 0,
            dups: 0,
            errors: 0,
            saturated: false,
        }
    }

    /// The final row of a finished phase.
    pub fn from_summary(t: &TransportSummary) -> Self {
        let requests_per_s = if t.duration_s > 0.0 {
            t.requests as f64 / t.duration_s
        } else {
            0.0
        };
        Self {
            name: t.name.clone(),
            status: RowStatus::Done,
            clients: t.clients,
            deliveries_per_s: t.deliveries_per_s(),
            requests_per_s,
            empty_pct: t.empty_pct(),
            latency: (t.delivered > 0 || t.latency_us.max > 0).then_some(t.latency_us),
            gaps: t.gaps + t.out_of_order,
            dups: t.duplicates,
            errors: t.error_count(),
            saturated: t.saturated,
        }
    }
}

/// Which optional columns fit in `width`.
#[derive(Debug, Clone, Copy)]
struct Cols {
    req: bool,
    p90: bool,
    max: bool,
}

impl Cols {
    fn for_width(width: u16) -> Self {
        // The mandatory columns with their spacing take 67 cells; each optional one costs 7.
        Self {
            max: width >= 74,
            p90: width >= 81,
            req: width >= 88,
        }
    }
}

/// Draws the comparison table into `area` inside `block`. `selected` is highlighted; `floor`, when
/// known, is a last row in the latency columns so every percentile can be read against it.
pub fn render_table(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    rows: &[CompRow],
    selected: Option<usize>,
    floor: Option<Floor>,
    theme: &Theme,
) {
    let inner_w = block.inner(area).width;
    let cols = Cols::for_width(inner_w);
    let mut header = vec!["transport", "clients", "dlv/s"];
    let mut widths = vec![
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(6),
    ];
    if cols.req {
        header.push("req/s");
        widths.push(Constraint::Length(6));
    }
    header.push("empty");
    widths.push(Constraint::Length(5));
    header.push("p50");
    widths.push(Constraint::Length(6));
    if cols.p90 {
        header.push("p90");
        widths.push(Constraint::Length(6));
    }
    header.extend(["p99", "p99.9"]);
    widths.extend([Constraint::Length(6), Constraint::Length(6)]);
    if cols.max {
        header.push("max");
        widths.push(Constraint::Length(6));
    }
    header.extend(["gaps", "dups", "errs"]);
    widths.extend([
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
    ]);

    let header_row = Row::new(
        header
            .iter()
            .enumerate()
            .map(|(i, h)| right_if(i > 0, h, theme.header())),
    );

    let mut out: Vec<Row> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut name = r.name.clone();
            match r.status {
                RowStatus::Running => name.push_str(" ▶"),
                RowStatus::Pending => {}
                RowStatus::Done if r.saturated => name.push_str(" !"),
                RowStatus::Done => {}
            }
            let pending = r.status == RowStatus::Pending;
            let num = |v: f64| if pending { "·".into() } else { fmt_num(v) };
            let lat = |f: fn(&LatencySummary) -> u64| match (&r.latency, pending) {
                (Some(l), false) => fmt_us(f(l) as f64),
                _ => "·".into(),
            };
            let mut cells = vec![
                Cell::from(name),
                right(num(r.clients as f64)),
                right(num(r.deliveries_per_s)),
            ];
            if cols.req {
                cells.push(right(num(r.requests_per_s)));
            }
            cells.push(right(if pending {
                "·".into()
            } else {
                format!("{:.0}%", r.empty_pct)
            }));
            cells.push(right(lat(|l| l.p50)));
            if cols.p90 {
                cells.push(right(lat(|l| l.p90)));
            }
            cells.push(right(lat(|l| l.p99)));
            cells.push(right(lat(|l| l.p999)));
            if cols.max {
                cells.push(right(lat(|l| l.max)));
            }
            let loss = |v: u64| {
                if pending {
                    Cell::from(Line::from("·").right_aligned())
                } else if v > 0 {
                    Cell::from(
                        Line::from(Span::styled(fmt_num(v as f64), theme.bad())).right_aligned(),
                    )
                } else {
                    right("0".into())
                }
            };
            cells.push(loss(r.gaps));
            cells.push(loss(r.dups));
            cells.push(loss(r.errors));
            let style = if Some(i) == selected {
                theme.selected()
            } else if pending {
                theme.dim()
            } else {
                Style::new()
            };
            Row::new(cells).style(style)
        })
        .collect();

    if let Some(f) = floor {
        // The floor sits under p50 and p99; every other cell stays empty.
        let mut cells = vec![Cell::from("floor"), Cell::from(""), Cell::from("")];
        if cols.req {
            cells.push(Cell::from(""));
        }
        cells.push(Cell::from(""));
        cells.push(right(fmt_us(f.p50)));
        if cols.p90 {
            cells.push(Cell::from(""));
        }
        cells.push(right(fmt_us(f.p99)));
        out.push(Row::new(cells).style(theme.dim()));
    }

    frame.render_widget(
        Table::new(out, widths)
            .header(header_row)
            .column_spacing(1)
            .block(block),
        area,
    );
}

fn right(s: String) -> Cell<'static> {
    Cell::from(Line::from(s).right_aligned())
}

fn right_if<'a>(r: bool, s: &'a str, style: Style) -> Cell<'a> {
    let l = Line::from(Span::styled(s, style));
    Cell::from(if r { l.right_aligned() } else { l })
}

/// The same table as plain text, for `tickbench show` when stdout is not a terminal (CI logs).
pub fn text_table(rows: &[CompRow], floor: Option<Floor>) -> String {
    let head = [
        "transport",
        "clients",
        "dlv/s",
        "req/s",
        "empty",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "gaps",
        "dups",
        "errs",
    ];
    let mut lines: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
    for r in rows {
        let lat = |f: fn(&LatencySummary) -> u64| {
            r.latency
                .as_ref()
                .map_or("-".into(), |l| fmt_us(f(l) as f64))
        };
        let mut name = r.name.clone();
        if r.saturated {
            name.push_str(" (SATURATED)");
        }
        lines.push(vec![
            name,
            r.clients.to_string(),
            fmt_num(r.deliveries_per_s),
            fmt_num(r.requests_per_s),
            format!("{:.0}%", r.empty_pct),
            lat(|l| l.p50),
            lat(|l| l.p90),
            lat(|l| l.p99),
            lat(|l| l.p999),
            lat(|l| l.max),
            r.gaps.to_string(),
            r.dups.to_string(),
            r.errors.to_string(),
        ]);
    }
    if let Some(f) = floor {
        let mut l = vec![String::new(); head.len()];
        l[0] = "floor".into();
        l[5] = fmt_us(f.p50);
        l[7] = fmt_us(f.p99);
        lines.push(l);
    }
    align(&lines)
}

/// Left-aligns the first column and right-aligns the others, two spaces apart.
pub fn align(lines: &[Vec<String>]) -> String {
    let n = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            lines
                .iter()
                .map(|l| l.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in lines {
        let mut line = String::new();
        for (c, cell) in l.iter().enumerate() {
            if c == 0 {
                line.push_str(&format!("{cell:<w$}", w = widths[0]));
            } else {
                line.push_str(&format!("  {cell:>w$}", w = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
