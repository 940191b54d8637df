//! Draws the results viewer: run titles, the comparison table (one run) or the B-vs-A delta table
//! (two), both full tables side by side on a large terminal, and the percentile spectrum of the
//! selected transport. Reads [`ResultsState`] only.

use ratatui::layout::{Constraint, Layout};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;
use tickbench_loadgen::results::table::Table as TableModel;
use tickbench_wire::{Summary, Transport, TransportSummary};

use crate::results::delta::{delta_pct, find, DELTA_METRICS};
use crate::results::keys::HELP;
use crate::results::load::LoadedRun;
use crate::results::state::ResultsState;
use crate::theme::Theme;
use crate::widgets::help::render_help;
use crate::widgets::spectrum::{self, Curve};
use crate::widgets::table;

fn run_title(r: &Summary, theme: &Theme) -> Vec<Span<'static>> {
    let mut v = vec![
        Span::styled(
            if r.label.is_empty() {
                "(unlabelled)".to_string()
            } else {
                r.label.clone()
            },
            theme.header(),
        ),
        Span::raw(format!(
            "  started {}  tickbench {}",
            r.started_at, r.tickbench_version
        )),
    ];
    if !r.complete {
        v.push(Span::raw("  "));
        v.push(Span::styled(" INCOMPLETE ", theme.alarm()));
    }
    // HTTP/2, TLS, shared connections: what the figures were measured over.
    let mut links: Vec<String> = r
        .transports
        .iter()
        .filter(|t| t.link != tickbench_wire::Link::default())
        .map(|t| t.link.to_string())
        .collect();
    links.dedup();
    for l in links {
        v.push(Span::raw("  "));
        v.push(Span::styled(format!("[{l}]"), theme.header()));
    }
    if r.transports.iter().any(|t| t.saturated) {
        v.push(Span::raw("  "));
        v.push(Span::styled(" SATURATED ", theme.alarm()));
    }
    v
}

/// Draws the results viewer.
pub fn render(state: &ResultsState, frame: &mut Frame) {
    let theme = &state.theme;
    let names = state.names();
    let sel_name = names.get(state.selected).cloned().unwrap_or_default();
    let area = frame.area();
    let table_h = names.len() as u16 + 3 + u16::from(state.runs.len() == 1);
    let title_h = state.runs.len() as u16;
    // Two runs on a wide, tall terminal: both full tables side by side above the delta table.
    let pair_h = names.len() as u16 + 4;
    let side_by_side =
        state.runs.len() == 2 && area.width >= 150 && area.height >= title_h + pair_h + table_h + 8;
    let [title, pair_area, table_area, chart_area, footer] = Layout::vertical([
        Constraint::Length(title_h),
        Constraint::Length(if side_by_side { pair_h } else { 0 }),
        Constraint::Length(table_h),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(area);
    if side_by_side {
        let halves: [ratatui::layout::Rect; 2] =
            Layout::horizontal([Constraint::Percentage(50); 2]).areas(pair_area);
        for (i, (r, half)) in state.runs.iter().zip(halves).enumerate() {
            let sel = r.summary.transports.iter().position(|t| t.name == sel_name);
            table::render_table(
                frame,
                half,
                Block::bordered().title(format!(" {} ", if i == 0 { "A" } else { "B" })),
                &TableModel::from_summary(&r.summary),
                &[],
                sel,
                Some(r.summary.floor_us),
                theme,
            );
        }
    }

    let title_lines: Vec<Line> = state
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut spans = Vec::new();
            if state.runs.len() > 1 {
                spans.push(Span::styled(
                    if i == 0 { "A " } else { "B " },
                    theme.series(i).add_modifier(ratatui::style::Modifier::BOLD),
                ));
            }
            spans.extend(run_title(&r.summary, theme));
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(title_lines), title);

    let mut curves: Vec<(Curve, Style)> = Vec::new();
    if let [run] = state.runs.as_slice() {
        table::render_table(
            frame,
            table_area,
            Block::bordered().title(" transports "),
            &TableModel::from_summary(&run.summary),
            &[],
            Some(state.selected),
            Some(run.summary.floor_us),
            theme,
        );
        if let Some(c) = run.curve(&sel_name) {
            // One run: the curve is the transport's, in its colour. (Two runs overlay the same
            // transport, so there the colours tell run A from run B.)
            let style = sel_name
                .parse::<Transport>()
                .map_or(theme.series(0), |t| theme.transport(t));
            curves.push((c.clone(), style));
        }
    } else if let [a, b] = state.runs.as_slice() {
        render_delta_table(frame, table_area, a, b, &names, state.selected, theme);
        for (i, r) in [a, b].into_iter().enumerate() {
            if let Some(c) = r.curve(&sel_name) {
                let mut c = c.clone();
                c.name = format!("{} {}", if i == 0 { "A" } else { "B" }, c.name);
                curves.push((c, theme.series(i)));
            }
        }
    }
    spectrum::render(
        frame,
        chart_area,
        Block::bordered().title(format!(" latency by percentile: {sel_name} ")),
        &curves,
        theme,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            " q quit  Tab/←/→ transport  ? help",
            theme.dim(),
        )),
        footer,
    );
    if state.help {
        render_help(frame, theme, "tickbench show", HELP);
    }
}

/// One delta row: B's value and its change against A. `higher_is_worse` picks the colour.
fn delta_cells(
    a: Option<f64>,
    b: Option<f64>,
    fmt: fn(f64) -> String,
    higher_is_worse: bool,
    theme: &Theme,
) -> Cell<'static> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (s, d) = delta_pct(a, b);
            let worse = if higher_is_worse { d > 5.0 } else { d < -5.0 };
            let better = if higher_is_worse { d < -5.0 } else { d > 5.0 };
            let style = if worse {
                theme.bad()
            } else if better {
                theme.good()
            } else {
                theme.dim()
            };
            Cell::from(
                Line::from(vec![
                    Span::raw(format!("{} ", fmt(b))),
                    Span::styled(format!("{s:>5}"), style),
                ])
                .right_aligned(),
            )
        }
        (None, Some(b)) => Cell::from(Line::from(format!("{} (new)", fmt(b))).right_aligned()),
        (Some(_), None) => Cell::from(Line::styled("gone", theme.dim()).right_aligned()),
        (None, None) => Cell::from(""),
    }
}

fn render_delta_table(
    frame: &mut Frame,
    area: ratatui::layout::Rect,
    a: &LoadedRun,
    b: &LoadedRun,
    names: &[String],
    selected: usize,
    theme: &Theme,
) {
    let mut header = vec![Cell::from(Span::styled("transport", theme.header()))];
    for (h, ..) in DELTA_METRICS {
        header.push(Cell::from(
            Line::styled(format!("{h} B vs A"), theme.header()).right_aligned(),
        ));
    }
    header.push(Cell::from(
        Line::styled("errs A→B", theme.header()).right_aligned(),
    ));
    let rows: Vec<Row> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (ta, tb) = (find(a, n), find(b, n));
            let mut cells = vec![Cell::from(n.clone())];
            for (_, f, fmt, hw) in DELTA_METRICS {
                cells.push(delta_cells(ta.map(f), tb.map(f), fmt, hw, theme));
            }
            let e = |t: Option<&TransportSummary>| {
                t.map_or("-".into(), |t| t.error_count().to_string())
            };
            cells.push(Cell::from(
                Line::from(format!("{}→{}", e(ta), e(tb))).right_aligned(),
            ));
            let style = if i == selected {
                theme.selected()
            } else {
                Style::new()
            };
            Row::new(cells).style(style)
        })
        .collect();
    let widths = [
        Constraint::Length(10),
        Constraint::Length(13),
        Constraint::Length(13),
        Constraint::Length(13),
        Constraint::Length(13),
        Constraint::Length(9),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header))
            .column_spacing(1)
            .block(Block::bordered().title(" B vs A (latency up = red) ")),
        area,
    );
}
