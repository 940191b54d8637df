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

use tickbench_wire::{FloorMultiples, Summary, TransportSummary};

/// [`Row::transport`] of the fan-out floor's row.
pub const FANOUT_FLOOR_ROW: &str = "fanout-floor";

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
    /// Latency p50, p99 and server CPU per delivery as multiples of the run's fan-out floor
    /// (only in tables of runs that measured one).
    FloorMultiples,
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

/// The fan-out floor column, placed after the server CPU column when the run has a floor.
const FLOOR_COLUMN: Column = col(
    ColumnKey::FloorMultiples,
    "× fan-out floor p50/p99/CPU",
    Align::Right,
);

const fn col(key: ColumnKey, header: &'static str, align: Align) -> Column {
    Column { key, header, align }
}

impl Table {
    /// One row per phase of `summary`, in run order. A run that measured the fan-out floor
    /// also gets the [`ColumnKey::FloorMultiples`] column and, last, the floor's own row
    /// (transport `fanout-floor`, its multiples 1).
    pub fn from_summary(summary: &Summary) -> Table {
        let mut columns = COLUMNS.to_vec();
        let floor = summary.fanout_floor.as_ref();
        if floor.is_some() {
            let at = columns
                .iter()
                .position(|c| c.key == ColumnKey::ServerCpuPerTick)
                .map_or(columns.len(), |i| i + 1);
            columns.insert(at, FLOOR_COLUMN);
        }
        let mut rows: Vec<Row> = summary
            .transports
            .iter()
            .map(|t| row(t, &columns, floor.map(|_| summary.floor_multiples(t))))
            .collect();
        if let Some(f) = floor {
            let mut r = row(f, &columns, Some(FloorMultiples::of(f, f)));
            r.transport = FANOUT_FLOOR_ROW.into();
            if let Some(i) = columns.iter().position(|c| c.key == ColumnKey::Transport) {
                r.cells[i].text = format!("fan-out floor ({})", f.name);
            }
            rows.push(r);
        }
        Table { columns, rows }
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

/// `t`'s row with a cell per column of `columns`; `multiples` is `Some` when the table has the
/// floor column (then `Some(None)` when `t` has no multiples, e.g. it delivered nothing).
fn row(t: &TransportSummary, columns: &[Column], multiples: Option<Option<FloorMultiples>>) -> Row {
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
    .with_floor(columns, multiples)
}

impl Row {
    /// Inserts the floor-multiples cell where `columns` has that column.
    fn with_floor(mut self, columns: &[Column], multiples: Option<Option<FloorMultiples>>) -> Row {
        let (Some(m), Some(at)) = (
            multiples,
            columns
                .iter()
                .position(|c| c.key == ColumnKey::FloorMultiples),
        ) else {
            return self;
        };
        let text = match m {
            Some(m) => format!(
                "{:.2} / {:.2} / {:.2}",
                m.latency_p50, m.latency_p99, m.cpu_per_delivery
            ),
            None => "-".into(),
        };
        self.cells.insert(at, plain_cell(text));
        self
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
    fn a_run_with_a_fanout_floor_shows_multiples_and_the_floor_row() {
        let mut s = sample_summary();
        assert!(!Table::from_summary(&s)
            .columns
            .iter()
            .any(|c| c.key == ColumnKey::FloorMultiples));
        // A push transport: multiples of a push floor are shown for those only.
        s.transports[0].name = "sse".into();
        let mut floor = s.transports[0].clone();
        floor.latency_us.p50 /= 2;
        floor.latency_us.p99 /= 4;
        floor.server_cpu_s /= 2.0;
        s.fanout_floor = Some(Box::new(floor));
        let t = Table::from_summary(&s);
        assert_eq!(t.rows.len(), 2);
        assert!(t.rows.iter().all(|r| r.cells.len() == t.columns.len()));
        let at = t
            .columns
            .iter()
            .position(|c| c.key == ColumnKey::FloorMultiples)
            .unwrap();
        assert_eq!(t.columns[at - 1].key, ColumnKey::ServerCpuPerTick);
        assert_eq!(t.rows[0].cells[at].text, "2.00 / 4.00 / 2.00");
        assert_eq!(t.rows[1].transport, FANOUT_FLOOR_ROW);
        assert_eq!(t.rows[1].cells[0].text, "fan-out floor (sse)");
        assert_eq!(t.rows[1].cells[at].text, "1.00 / 1.00 / 1.00");
        assert!(t.markdown().contains("fan-out floor (sse)"));
        // A schedule-bound transport's latency is its poll interval: no multiple of a push floor.
        s.transports[0].name = "poll".into();
        let t = Table::from_summary(&s);
        assert!(
            !t.rows[0].cells[at].text.contains('/'),
            "{:?}",
            t.rows[0].cells[at]
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
