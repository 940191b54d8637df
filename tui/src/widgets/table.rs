//! The ratatui view of the comparison table model ([`Table`] from `loadgen::results::table`): the
//! same rows and cells `report.md` (Markdown) and `--plain` print, drawn on the live dashboard and
//! in the results viewer, so a saved run reads exactly like the live one did and like its report.
//!
//! What only a terminal adds: the selected row, a mark on the running (`▶`) and saturated (`!`)
//! phases, placeholder rows for phases not started, colour by each cell's severity, and the
//! loopback floor as a last row under p50 and p99. At 80 columns not every column fits; the least
//! essential ones are dropped first so the percentiles and the loss always stay.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table as TableWidget};
use ratatui::Frame;
use tickbench_loadgen::results::table::{Align, ColumnKey, Severity, Table};
use tickbench_wire::Floor;

use crate::theme::Theme;

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

/// What a pending row shows in every figure column.
const PLACEHOLDER: &str = "·";

/// When a column is dropped for lack of width: `None` never, else lower numbers first. Every
/// column of the model must be placed here (no `_ =>` arm), so a new column is a decision.
fn drop_rank(key: ColumnKey) -> Option<u8> {
    match key {
        ColumnKey::Transport
        | ColumnKey::DeliveriesPerS
        | ColumnKey::P50
        | ColumnKey::P99
        | ColumnKey::P999
        | ColumnKey::Loss => None,
        ColumnKey::ServerCpuPerTick | ColumnKey::FloorMultiples => Some(0),
        ColumnKey::BytesPerTick => Some(1),
        ColumnKey::RequestsPerTick => Some(2),
        // The `!` on the name still says it.
        ColumnKey::Saturated => Some(3),
        ColumnKey::EmptyPct => Some(4),
        ColumnKey::Max => Some(5),
        ColumnKey::Clients => Some(6),
    }
}

/// The name cell's text: the transport and its mark.
fn name_text(table: &Table, row: usize, status: RowStatus) -> String {
    let r = &table.rows[row];
    let name = table
        .columns
        .iter()
        .position(|c| c.key == ColumnKey::Transport)
        .and_then(|i| r.cells.get(i))
        .map_or(r.transport.as_str(), |c| c.text.as_str());
    let saturated = table
        .columns
        .iter()
        .position(|c| c.key == ColumnKey::Saturated)
        .and_then(|i| r.cells.get(i))
        .is_some_and(|c| c.severity == Severity::Bad);
    match status {
        RowStatus::Running => format!("{name} ▶"),
        RowStatus::Done if saturated => format!("{name} !"),
        RowStatus::Done | RowStatus::Pending => name.to_string(),
    }
}

/// The text of cell `col` of row `row` as drawn.
fn cell_text(table: &Table, row: usize, col: usize, status: RowStatus) -> String {
    if table.columns[col].key == ColumnKey::Transport {
        return name_text(table, row, status);
    }
    match status {
        RowStatus::Pending => PLACEHOLDER.to_string(),
        RowStatus::Running | RowStatus::Done => table.rows[row]
            .cells
            .get(col)
            .map_or(String::new(), |c| c.text.clone()),
    }
}

/// Which columns fit in `width` (indices into `table.columns`), and each one's width.
fn fit(table: &Table, status: &[RowStatus], width: u16) -> Vec<(usize, u16)> {
    let status_of = |i: usize| status.get(i).copied().unwrap_or(RowStatus::Done);
    let mut cols: Vec<(usize, u16)> = table
        .columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let w = (0..table.rows.len())
                .map(|r| cell_text(table, r, c, status_of(r)).chars().count())
                .fold(col.header.chars().count(), usize::max);
            (c, w as u16)
        })
        .collect();
    let total = |cols: &[(usize, u16)]| {
        cols.iter().map(|c| c.1).sum::<u16>() + cols.len().saturating_sub(1) as u16
    };
    let mut droppable: Vec<(u8, usize)> = table
        .columns
        .iter()
        .enumerate()
        .filter_map(|(c, col)| drop_rank(col.key).map(|r| (r, c)))
        .collect();
    droppable.sort();
    for (_, c) in droppable {
        if total(&cols) <= width {
            break;
        }
        cols.retain(|x| x.0 != c);
    }
    cols
}

/// Draws `table` into `area` inside `block`. `status[i]` is row `i`'s phase (missing: done);
/// `selected` is highlighted; `floor`, when known, is a last row under p50 and p99.
#[allow(clippy::too_many_arguments)]
pub fn render_table(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    table: &Table,
    status: &[RowStatus],
    selected: Option<usize>,
    floor: Option<Floor>,
    theme: &Theme,
) {
    let cols = fit(table, status, block.inner(area).width);
    let aligned = |text: String, c: usize, style: Style| {
        let line = Line::from(Span::styled(text, style));
        Cell::from(match table.columns[c].align {
            Align::Left => line,
            Align::Right => line.right_aligned(),
        })
    };
    let header = Row::new(
        cols.iter()
            .map(|&(c, _)| aligned(table.columns[c].header.to_string(), c, theme.header())),
    );
    let mut rows: Vec<Row> = (0..table.rows.len())
        .map(|r| {
            let st = status.get(r).copied().unwrap_or(RowStatus::Done);
            let cells = cols.iter().map(|&(c, _)| {
                let severity = match st {
                    RowStatus::Pending => Severity::Normal,
                    RowStatus::Running | RowStatus::Done => table.rows[r]
                        .cells
                        .get(c)
                        .map_or(Severity::Normal, |x| x.severity),
                };
                let style = match severity {
                    Severity::Normal => Style::new(),
                    Severity::Warn => theme.warn(),
                    Severity::Bad => theme.bad(),
                };
                aligned(cell_text(table, r, c, st), c, style)
            });
            let style = if Some(r) == selected {
                theme.selected()
            } else if st == RowStatus::Pending {
                theme.dim()
            } else {
                Style::new()
            };
            Row::new(cells.collect::<Vec<_>>()).style(style)
        })
        .collect();
    if let Some(f) = floor {
        // The floor sits under p50 and p99, in the model's unit (ms); every other cell is empty.
        let cells = cols.iter().map(|&(c, _)| {
            let text = match table.columns[c].key {
                ColumnKey::Transport => "floor".to_string(),
                ColumnKey::P50 => format!("{:.2}", f.p50 / 1000.0),
                ColumnKey::P99 => format!("{:.2}", f.p99 / 1000.0),
                ColumnKey::Clients
                | ColumnKey::DeliveriesPerS
                | ColumnKey::RequestsPerTick
                | ColumnKey::EmptyPct
                | ColumnKey::BytesPerTick
                | ColumnKey::P999
                | ColumnKey::Max
                | ColumnKey::Loss
                | ColumnKey::ServerCpuPerTick
                | ColumnKey::FloorMultiples
                | ColumnKey::Saturated => String::new(),
            };
            aligned(text, c, Style::new())
        });
        rows.push(Row::new(cells.collect::<Vec<_>>()).style(theme.dim()));
    }
    let widths: Vec<Constraint> = cols.iter().map(|c| Constraint::Length(c.1)).collect();
    frame.render_widget(
        TableWidget::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(block),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickbench_loadgen::results::table::{Cell as ModelCell, Row as ModelRow};

    fn model() -> Table {
        let mut t = Table {
            columns: Vec::new(),
            rows: Vec::new(),
        };
        // Every column of the model, with one row of short figures.
        let sample = tickbench_wire::Summary {
            schema: tickbench_wire::SCHEMA_VERSION,
            tickbench_version: String::new(),
            label: String::new(),
            started_at: String::new(),
            complete: true,
            config: serde_json::Value::Null,
            floor_us: Floor::default(),
            floor_cross_us: None,
            fanout_floor: None,
            transports: Vec::new(),
            browser: None,
            hgrm_unit: Default::default(),
            host: None,
        };
        t.columns = Table::from_summary(&sample).columns;
        t.rows.push(ModelRow {
            transport: "sse".into(),
            cells: t
                .columns
                .iter()
                .map(|c| ModelCell {
                    text: if c.key == ColumnKey::Transport {
                        "sse".into()
                    } else {
                        "1".into()
                    },
                    severity: Severity::Normal,
                })
                .collect(),
        });
        t
    }

    #[test]
    fn narrow_tables_keep_the_percentiles_and_the_loss() {
        let t = model();
        let all = fit(&t, &[], 500);
        assert_eq!(all.len(), t.columns.len());
        let narrow = fit(&t, &[], 60);
        let keys: Vec<ColumnKey> = narrow.iter().map(|&(c, _)| t.columns[c].key).collect();
        for k in [
            ColumnKey::Transport,
            ColumnKey::DeliveriesPerS,
            ColumnKey::P50,
            ColumnKey::P99,
            ColumnKey::P999,
            ColumnKey::Loss,
        ] {
            assert!(keys.contains(&k), "{k:?} dropped at 60 columns");
        }
        assert!(!keys.contains(&ColumnKey::ServerCpuPerTick));
        assert!(narrow.iter().map(|c| c.1 + 1).sum::<u16>() <= 61);
    }

    #[test]
    fn marks_and_placeholders() {
        let t = model();
        assert_eq!(name_text(&t, 0, RowStatus::Running), "sse ▶");
        assert_eq!(cell_text(&t, 0, 1, RowStatus::Pending), PLACEHOLDER);
        assert_eq!(cell_text(&t, 0, 1, RowStatus::Done), "1");
    }
}
