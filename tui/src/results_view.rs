//! `tickbench show`: a saved run (`summary.json` plus its `.hgrm` percentile files) as the
//! comparison table and a percentile-spectrum chart per transport; two runs side by side as a
//! delta table with both curves overlaid. Without a terminal on stdout it prints the tables as text
//! (CI logs).

use std::path::{Path, PathBuf};

use anyhow::Context;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;
use tickbench_wire::{Summary, TransportSummary};

use crate::term::Theme;
use crate::widgets::spectrum::{self, Curve};
use crate::widgets::table::{self, CompRow};
use crate::widgets::{fmt_num, fmt_us, render_help};
use crate::Action;

/// One saved run, read from disk.
#[derive(Debug, Clone)]
pub struct LoadedRun {
    /// The folder (or file) it was read from, for messages.
    pub path: PathBuf,
    pub summary: Summary,
    /// Percentile curve per transport name: from its `.hgrm` file when present, else the
    /// percentiles stored in the summary.
    pub curves: Vec<Curve>,
}

impl LoadedRun {
    /// Reads `path`: a results folder holding `summary.json`, or a `summary.json` itself.
    /// Any problem is one error line naming the file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        // A `.json` path is the summary itself; anything else is a results folder.
        let (dir, file) = if path.extension().is_none_or(|e| e != "json") {
            (path.to_path_buf(), path.join("summary.json"))
        } else {
            (
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
                path.to_path_buf(),
            )
        };
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "cannot read {} (run `tickbench run` first, or pass a results folder)",
                file.display()
            )
        })?;
        let summary: Summary = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a tickbench summary", file.display()))?;
        if summary.schema != tickbench_wire::SCHEMA_VERSION {
            anyhow::bail!(
                "{} has schema {}, this tickbench reads schema {}",
                file.display(),
                summary.schema,
                tickbench_wire::SCHEMA_VERSION
            );
        }
        let hgrms = hgrm_files(&dir);
        let curves = summary
            .transports
            .iter()
            .map(|t| {
                let from_file = hgrms
                    .iter()
                    .find(|(stem, _)| stem_names(stem, &t.name))
                    .and_then(|(_, p)| std::fs::read_to_string(p).ok())
                    .map(|s| parse_hgrm(&s))
                    .filter(|pts| !pts.is_empty());
                Curve {
                    name: t.name.clone(),
                    points: from_file.unwrap_or_else(|| summary_curve(t)),
                }
            })
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            summary,
            curves,
        })
    }

    fn curve(&self, name: &str) -> Option<&Curve> {
        self.curves.iter().find(|c| c.name == name)
    }
}

/// `(file stem, path)` of every `.hgrm` in `dir`.
fn hgrm_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "hgrm"))
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p)))
        .collect();
    v.sort();
    v
}

/// True when a file stem names transport `name`: `sse`, `latency-sse`, `sse_latency`; but not
/// `longpoll` for `poll`.
fn stem_names(stem: &str, name: &str) -> bool {
    stem.split(['-', '_', '.']).any(|part| part == name)
}

/// Parses HdrHistogram's percentile-distribution text (`Value Percentile TotalCount 1/(1-P)`
/// columns; `#` lines and headers skipped) into `(quantile, µs)` points. Percentiles written as
/// percent (0–100) are accepted too.
pub fn parse_hgrm(text: &str) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64, f64)> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let v: f64 = it.next()?.parse().ok()?;
            let q: f64 = it.next()?.parse().ok()?;
            let n: f64 = it.next().and_then(|n| n.parse().ok()).unwrap_or(0.0);
            (v.is_finite() && q.is_finite()).then_some((q, v, n))
        })
        .collect();
    if pts.iter().any(|&(q, ..)| q > 1.0) {
        for p in &mut pts {
            p.0 /= 100.0;
        }
    }
    let mut pts: Vec<(f64, f64)> = pts
        .into_iter()
        .map(|(q, v, n)| {
            // The 100 % row is the max: place it at the last sample's quantile (1 - 1/count)
            // rather than at the right edge of the nines axis.
            if q >= 1.0 && n > 1.0 {
                (1.0 - 1.0 / n, v)
            } else {
                (q, v)
            }
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// The curve the summary alone gives: min, p50, p90, p99, p99.9 and max (placed at the last
/// sample's quantile, 1 − 1/n).
fn summary_curve(t: &TransportSummary) -> Vec<(f64, f64)> {
    let l = &t.latency_us;
    if l.max == 0 {
        return Vec::new();
    }
    let last_q = if t.delivered > 1 {
        1.0 - 1.0 / t.delivered as f64
    } else {
        0.999
    };
    let mut v = vec![
        (0.0, l.min as f64),
        (0.5, l.p50 as f64),
        (0.9, l.p90 as f64),
        (0.99, l.p99 as f64),
        (0.999, l.p999 as f64),
    ];
    v.retain(|p| p.0 < last_q);
    v.push((last_q, l.max as f64));
    v
}

/// What the results viewer shows.
#[derive(Debug, Clone)]
pub struct ResultsState {
    /// One run, or two (A then B) for a comparison.
    pub runs: Vec<LoadedRun>,
    /// Index into [`ResultsState::names`] of the transport whose spectrum is drawn.
    pub selected: usize,
    /// The `?` overlay is open.
    pub help: bool,
    pub theme: Theme,
}

impl ResultsState {
    pub fn new(runs: Vec<LoadedRun>, theme: Theme) -> Self {
        Self {
            runs,
            selected: 0,
            help: false,
            theme,
        }
    }

    /// Transport names across the runs, in run order (A's first).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for r in &self.runs {
            for t in &r.summary.transports {
                if !v.contains(&t.name) {
                    v.push(t.name.clone());
                }
            }
        }
        v
    }
}

const HELP: &[(&str, &str)] = &[
    ("Tab / →", "next transport"),
    ("S-Tab / ←", "previous transport"),
    ("?", "this help"),
    ("q / Esc", "quit"),
];

/// Keys of the results viewer.
pub fn handle_key(state: &mut ResultsState, key: KeyEvent) -> Action {
    if state.help {
        state.help = false;
        return Action::None;
    }
    let n = state.names().len().max(1);
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Action::Quit,
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
            state.selected = (state.selected + 1) % n;
            Action::None
        }
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
            state.selected = (state.selected + n - 1) % n;
            Action::None
        }
        KeyCode::Char('?') => {
            state.help = true;
            Action::None
        }
        _ => Action::None,
    }
}

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
            let rows: Vec<CompRow> = r
                .summary
                .transports
                .iter()
                .map(CompRow::from_summary)
                .collect();
            let sel = r.summary.transports.iter().position(|t| t.name == sel_name);
            table::render_table(
                frame,
                half,
                Block::bordered().title(format!(" {} ", if i == 0 { "A" } else { "B" })),
                &rows,
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
        let rows: Vec<CompRow> = run
            .summary
            .transports
            .iter()
            .map(CompRow::from_summary)
            .collect();
        table::render_table(
            frame,
            table_area,
            Block::bordered().title(" transports "),
            &rows,
            Some(state.selected),
            Some(run.summary.floor_us),
            theme,
        );
        if let Some(c) = run.curve(&sel_name) {
            curves.push((c.clone(), theme.series(0)));
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

/// `new` relative to `old`, percent, signed: `+12%`, `-3%`, `±0%`, or `new` for a transport B
/// added.
fn delta_pct(old: f64, new: f64) -> (String, f64) {
    if old <= 0.0 {
        return (
            if new > 0.0 {
                "new".into()
            } else {
                "±0%".into()
            },
            0.0,
        );
    }
    let d = 100.0 * (new - old) / old;
    let s = if d.abs() < 0.5 {
        "±0%".to_string()
    } else {
        format!("{d:+.0}%")
    };
    (s, d)
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

type Metric = (
    &'static str,
    fn(&TransportSummary) -> f64,
    fn(f64) -> String,
    bool,
);

const DELTA_METRICS: [Metric; 4] = [
    ("p50", |t| t.latency_us.p50 as f64, fmt_us, true),
    ("p99", |t| t.latency_us.p99 as f64, fmt_us, true),
    ("p99.9", |t| t.latency_us.p999 as f64, fmt_us, true),
    ("dlv/s", TransportSummary::deliveries_per_s, fmt_num, false),
];

fn find<'a>(r: &'a LoadedRun, name: &str) -> Option<&'a TransportSummary> {
    r.summary.transports.iter().find(|t| t.name == name)
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

/// The non-interactive rendering: each run's table as text, then the deltas when two are given.
pub fn text_report(runs: &[LoadedRun]) -> String {
    let mut out = String::new();
    for (i, r) in runs.iter().enumerate() {
        let s = &r.summary;
        if runs.len() > 1 {
            out.push_str(if i == 0 { "A: " } else { "B: " });
        }
        out.push_str(&format!(
            "{} (started {}, tickbench {}){}\n",
            if s.label.is_empty() {
                "(unlabelled)"
            } else {
                &s.label
            },
            s.started_at,
            s.tickbench_version,
            if s.complete {
                ""
            } else {
                " INCOMPLETE: interrupted run"
            }
        ));
        let rows: Vec<CompRow> = s.transports.iter().map(CompRow::from_summary).collect();
        out.push_str(&table::text_table(&rows, Some(s.floor_us)));
        for t in s.transports.iter().filter(|t| t.saturated) {
            out.push_str(&format!(
                "SATURATED {}: {}\n",
                t.name,
                t.saturation_reasons.join("; ")
            ));
        }
        out.push('\n');
    }
    if let [a, b] = runs {
        let names = ResultsState::new(runs.to_vec(), Theme::mono()).names();
        let mut lines = vec![std::iter::once("transport".to_string())
            .chain(DELTA_METRICS.iter().map(|m| format!("{} A→B", m.0)))
            .collect::<Vec<_>>()];
        for n in &names {
            let (ta, tb) = (find(a, n), find(b, n));
            let mut l = vec![n.clone()];
            for (_, f, fmt, _) in DELTA_METRICS {
                l.push(match (ta.map(f), tb.map(f)) {
                    (Some(x), Some(y)) => {
                        format!("{} → {} ({})", fmt(x), fmt(y), delta_pct(x, y).0)
                    }
                    (None, Some(y)) => format!("new {}", fmt(y)),
                    (Some(x), None) => format!("{} → gone", fmt(x)),
                    (None, None) => "-".into(),
                });
            }
            lines.push(l);
        }
        out.push_str("B vs A\n");
        out.push_str(&table::align(&lines));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hgrm_text_is_parsed() {
        let t = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
                 \x20    100.000 0.000000000000          1           1.00\n\
                 \x20    250.000 0.500000000000        500           2.00\n\
                 \x20   9000.000 1.000000000000       1000\n\
                 #[Mean    =      300.000, StdDeviation   =       50.000]\n";
        assert_eq!(
            parse_hgrm(t),
            vec![(0.0, 100.0), (0.5, 250.0), (0.999, 9000.0)]
        );
        assert_eq!(parse_hgrm("50.0 99.0\n"), vec![(0.99, 50.0)]);
    }

    #[test]
    fn file_stems_match_whole_words() {
        assert!(stem_names("sse", "sse"));
        assert!(stem_names("latency-sse", "sse"));
        assert!(!stem_names("longpoll", "poll"));
    }

    #[test]
    fn deltas() {
        assert_eq!(delta_pct(100.0, 112.0).0, "+12%");
        assert_eq!(delta_pct(100.0, 100.2).0, "±0%");
        assert_eq!(delta_pct(0.0, 5.0).0, "new");
    }
}
