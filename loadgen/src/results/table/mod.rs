//! The comparison table as data: one [`Row`] per transport phase, the same [`Column`]s in every
//! view. `report.md` ([`Table::markdown`]), `tickbench run --no-tui` and `tickbench show --plain`
//! ([`Table::plain`]) and the TUI's ratatui table are renderings of this one model, so they cannot
//! drift apart.
//!
//! ```no_run
//! use tickbench_loadgen::results::{self, table::Table};
//! let summary = results::read("results/latest".as_ref())?;
//! print!("{}", Table::from_summary(&summary).plain());
//! # Ok::<(), tickbench_loadgen::Error>(())
//! ```

mod markdown;
mod plain;

use tickbench_wire::{Summary, TransportSummary};

/// Which figure a column shows; a view that cannot fit every column drops them by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKey {
    Transport,
    Clients,
    DeliveriesPerS,
    RequestsPerTick,
    EmptyPct,
    BytesPerTick,
    P50,
    P99,
    P999,
    Max,
    Loss,
    ServerCpuPerTick,
    Saturated,
}

/// How a column's cells line up: names to the left, figures to the right, as a reader scans them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: what it shows, its header, its alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: ColumnKey,
    pub header: &'static str,
    pub align: Align,
}

/// How loudly a cell must be shown; the text views keep the words (`SATURATED`), colour views
/// also colour them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Severity {
    /// An ordinary figure.
    #[default]
    Normal,
    /// Worth a look, not a failure (declared gaps, errors).
    Warn,
    /// The figure is wrong or describes the instrument: loss, a saturated load generator.
    Bad,
}

/// One cell: its display text and how loudly to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub severity: Severity,
}

/// One transport phase's cells, in [`Table::columns`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The phase's transport name (as in `summary.json`), for selecting or colouring the row.
    pub transport: String,
    pub cells: Vec<Cell>,
}

/// The comparison table of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// The columns, in the order every view shows them.
const COLUMNS: [Column; 13] = [
    col(ColumnKey::Transport, "transport", Align::Left),
    col(ColumnKey::Clients, "clients", Align::Right),
    col(ColumnKey::DeliveriesPerS, "deliveries/s", Align::Right),
    col(ColumnKey::RequestsPerTick, "req/tick", Align::Right),
    col(ColumnKey::EmptyPct, "empty %", Align::Right),
    col(ColumnKey::BytesPerTick, "bytes/tick", Align::Right),
    col(ColumnKey::P50, "p50 ms", Align::Right),
    col(ColumnKey::P99, "p99 ms", Align::Right),
    col(ColumnKey::P999, "p99.9 ms", Align::Right),
    col(ColumnKey::Max, "max ms", Align::Right),
    col(ColumnKey::Loss, "loss", Align::Right),
    col(ColumnKey::ServerCpuPerTick, "srv CPU µs/tick", Align::Right),
    col(ColumnKey::Saturated, "saturated", Align::Left),
];

const fn col(key: ColumnKey, header: &'static str, align: Align) -> Column {
    Column { key, header, align }
}

impl Table {
    /// One row per phase of `summary`, in run order.
    pub fn from_summary(summary: &Summary) -> Table {
        Table {
            columns: COLUMNS.to_vec(),
            rows: summary.transports.iter().map(row).collect(),
        }
    }

    /// Each column's width in characters: the widest of its header and its cells.
    pub fn widths(&self) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                self.rows
                    .iter()
                    .filter_map(|r| r.cells.get(i))
                    .map(|cell| cell.text.chars().count())
                    .fold(c.header.chars().count(), usize::max)
            })
            .collect()
    }

    /// `| a | b |` with every cell padded to `widths` and aligned as its column says; the line
    /// shape both text renderers share.
    fn line<'a>(&self, cells: impl Iterator<Item = &'a str>, widths: &[usize]) -> String {
        let mut out = String::from("|");
        for ((text, col), w) in cells.zip(&self.columns).zip(widths) {
            let w = *w;
            match col.align {
                Align::Left => out.push_str(&format!(" {text:<w$} |")),
                Align::Right => out.push_str(&format!(" {text:>w$} |")),
            }
        }
        out.push('\n');
        out
    }

    /// The header line and every row line, `rule` (the line under the header) between them.
    fn render(&self, rule: impl Fn(&Column, usize) -> String) -> String {
        let widths = self.widths();
        let mut out = self.line(self.columns.iter().map(|c| c.header), &widths);
        out.push('|');
        for (c, w) in self.columns.iter().zip(&widths) {
            out.push_str(&format!(" {} |", rule(c, *w)));
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&self.line(r.cells.iter().map(|c| c.text.as_str()), &widths));
        }
        out
    }
}

fn row(t: &TransportSummary) -> Row {
    let ms = |us: u64| plain_cell(format!("{:.2}", us as f64 / 1000.0));
    let loss = if t.gap_notices > 0 {
        format!("{} (+{} declared)", t.loss(), t.gap_notices)
    } else {
        t.loss().to_string()
    };
    let loss_severity = if t.loss() > 0 {
        Severity::Bad
    } else if t.gap_notices > 0 {
        Severity::Warn
    } else {
        Severity::Normal
    };
    let (saturated, saturated_severity) = if t.saturated {
        ("SATURATED", Severity::Bad)
    } else {
        ("no", Severity::Normal)
    };
    Row {
        transport: t.name.clone(),
        cells: vec![
            plain_cell(t.name.clone()),
            plain_cell(t.clients.to_string()),
            plain_cell(format!("{:.0}", t.deliveries_per_s())),
            plain_cell(format!("{:.3}", t.requests_per_tick())),
            plain_cell(format!("{:.1}", t.empty_pct())),
            plain_cell(format!("{:.0}", t.bytes_per_tick())),
            ms(t.latency_us.p50),
            ms(t.latency_us.p99),
            ms(t.latency_us.p999),
            ms(t.latency_us.max),
            Cell {
                text: loss,
                severity: loss_severity,
            },
            plain_cell(format!("{:.1}", t.server_cpu_us_per_tick())),
            Cell {
                text: saturated.into(),
                severity: saturated_severity,
            },
        ],
    }
}

fn plain_cell(text: String) -> Cell {
    Cell {
        text,
        severity: Severity::Normal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::summary::tests::sample_summary;

    #[test]
    fn one_row_per_phase_with_every_column() {
        let mut s = sample_summary();
        s.transports.push(s.transports[0].clone());
        s.transports[1].name = "sse".into();
        s.transports[1].gaps = 2;
        s.transports[1].saturated = true;
        let t = Table::from_summary(&s);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].transport, "sse");
        assert!(t.rows.iter().all(|r| r.cells.len() == t.columns.len()));
        let at = |key| t.columns.iter().position(|c| c.key == key).unwrap();
        assert_eq!(t.rows[0].cells[at(ColumnKey::DeliveriesPerS)].text, "500");
        assert_eq!(
            t.rows[0].cells[at(ColumnKey::Loss)].severity,
            Severity::Normal
        );
        assert_eq!(t.rows[1].cells[at(ColumnKey::Loss)].severity, Severity::Bad);
        let sat = &t.rows[1].cells[at(ColumnKey::Saturated)];
        assert_eq!(
            (sat.text.as_str(), sat.severity),
            ("SATURATED", Severity::Bad)
        );
    }

    #[test]
    fn text_views_show_the_same_rows() {
        let t = Table::from_summary(&sample_summary());
        let (md, plain) = (t.markdown(), t.plain());
        let (md, plain): (Vec<&str>, Vec<&str>) = (md.lines().collect(), plain.lines().collect());
        assert_eq!(md.len(), plain.len());
        assert_eq!(md[0], plain[0], "same header");
        assert_eq!(md[2..], plain[2..], "same rows");
    }
}
