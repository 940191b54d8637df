//! Draws the dashboard: header with progress bar, comparison table, latency histogram, p50/p99
//! time chart and error panel. Reads [`DashState`] only.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition, Paragraph};
use ratatui::Frame;
use tickbench_loadgen::progress::Stage;

use crate::dashboard::keys::HELP;
use crate::dashboard::state::{DashState, PhaseView};
use crate::widgets::bars::text_bar;
use crate::widgets::fmt::{fmt_num, fmt_secs, fmt_us_short};
use crate::widgets::help::render_help;
use crate::widgets::histogram;
use crate::widgets::table;

fn stage_name(s: Option<Stage>) -> &'static str {
    match s {
        Some(Stage::Ramp) => "ramp-up",
        Some(Stage::Warmup) => "warm-up",
        Some(Stage::Measure) => "measuring",
        None => "starting",
    }
}

/// Draws the dashboard.
pub fn render(state: &DashState, frame: &mut Frame) {
    let th = &state.theme;
    let area = frame.area();
    let table_h = (state.phases.len().max(1) as u16 + 3 + u16::from(state.floor.is_some()))
        .min(area.height.saturating_sub(10).max(5));
    let [header, table_area, panels, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(table_h),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(area);

    render_header(state, frame, header);

    table::render_table(
        frame,
        table_area,
        Block::bordered().title(" transports (▶ running, ! saturated) "),
        &state.table(),
        &state.row_status(),
        Some(state.selected),
        state.floor,
        th,
    );

    let sel = state.phases.get(state.selected);
    let err_lines = error_lines(sel, state);
    let err_w = err_lines
        .iter()
        .map(|l| l.width() as u16)
        .max()
        .unwrap_or(0)
        .saturating_add(2)
        .max(14)
        .min(panels.width / 3);
    let [hist_area, chart_area, err_area] = Layout::horizontal([
        Constraint::Percentage(50),
        Constraint::Percentage(50),
        Constraint::Length(err_w),
    ])
    .areas(panels);
    let name = sel.map_or("-", |p| p.transport.name());
    histogram::render(
        frame,
        hist_area,
        Block::bordered().title(format!(" {name} latency histogram ")),
        sel.map(PhaseView::histogram),
        sel.map_or(th.series(0), |p| th.transport(p.transport)),
        th,
    );
    render_time_chart(state, frame, chart_area);
    let err_style = if err_lines.len() == 1 && sel.is_none_or(|p| p.all_counts.errors.is_empty()) {
        th.dim()
    } else {
        th.bad()
    };
    frame.render_widget(
        Paragraph::new(err_lines)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .style(err_style)
            .block(Block::bordered().title(" errors ")),
        err_area,
    );

    let msg = if state.finished.is_some() {
        " q exit  Tab/←/→ transport  ? help".to_string()
    } else if state.stopping {
        " stopping: writing the results…".to_string()
    } else {
        format!(
            " q stop  Tab/←/→ transport  +/- window ({}s)  ? help",
            state.window_s()
        )
    };
    frame.render_widget(Paragraph::new(Line::styled(msg, th.dim())), footer);
    if state.help {
        render_help(frame, th, "tickbench run", HELP);
    }
}

fn render_header(state: &DashState, frame: &mut Frame, area: Rect) {
    let th = &state.theme;
    let l = &state.live;
    let target = state.target.as_deref().unwrap_or("(starting)");
    let mut first = vec![Span::styled(
        format!(" tickbench run → {target}  "),
        th.header(),
    )];
    if state.link != tickbench_wire::Link::default() {
        first.push(Span::styled(format!("[{}]", state.link), th.good()));
        first.push(Span::raw("  "));
    }
    if let Some((dir, complete)) = &state.finished {
        first.push(Span::styled(
            if *complete { "finished" } else { "stopped" },
            th.good(),
        ));
        first.push(Span::raw(format!(" · results in {}", dir.display())));
        if !complete {
            first.push(Span::styled(" (incomplete)", th.warn()));
        }
    } else if let Some(e) = &state.error {
        first.push(Span::styled(format!("run failed: {e}"), th.bad()));
    } else if let Some(i) = state.current {
        let p = &state.phases[i];
        first.push(Span::raw(format!(
            "phase {}/{} ",
            i + 1,
            state.phases.len()
        )));
        first.push(Span::styled(p.transport.name(), th.header()));
        first.push(Span::raw(format!(" · {}", stage_name(l.stage))));
        if state.stopping {
            first.push(Span::styled(" · stopping", th.warn()));
        }
    }
    if l.saturated && state.finished.is_none() {
        first.push(Span::raw("  "));
        first.push(Span::styled(" SATURATED ", th.alarm()));
    }
    // The floor is the table's last row, beside the latency columns; not repeated here.
    let second = Line::from(vec![Span::raw(format!(
        " clients {}/{}  ticks/s {}  cpu server {:.0}% · loadgen {:.0}%",
        l.clients_connected,
        l.clients_target,
        fmt_num(l.ticks_per_s),
        l.server_cpu_pct,
        l.loadgen_cpu_pct
    ))]);
    let total = state.total.as_secs_f64();
    let elapsed = if state.finished.is_some() {
        total
    } else {
        l.run_elapsed.as_secs_f64()
    };
    let label = format!(" {} / {}", fmt_secs(elapsed), fmt_secs(total));
    let bar_w = (area.width as usize).saturating_sub(label.chars().count() + 2);
    let ratio = if total > 0.0 { elapsed / total } else { 0.0 };
    let third = Line::from(vec![
        Span::raw(" "),
        Span::styled(text_bar(ratio, bar_w), th.header()),
        Span::raw(label),
    ]);
    frame.render_widget(Paragraph::new(vec![Line::from(first), second, third]), area);
}

/// Error counts of the selected phase (the measured window once finished), then saturation
/// reasons: what the panel shows, one line each.
fn error_lines(sel: Option<&PhaseView>, state: &DashState) -> Vec<Line<'static>> {
    let mut v = Vec::new();
    if let Some(p) = sel {
        let errors = match &p.summary {
            Some(s) => s.errors.clone(),
            None => p.all_counts.errors.clone(),
        };
        for (k, n) in errors.iter().filter(|(_, n)| **n > 0) {
            v.push(Line::from(format!("{k} {}", fmt_num(*n as f64))));
        }
        let (notices, reconnects) = match &p.summary {
            Some(s) => (s.gap_notices, s.reconnects),
            None => (p.all_counts.gap_notices, p.all_counts.reconnects),
        };
        if notices > 0 {
            v.push(Line::from(format!("gap notices {notices}")));
        }
        if reconnects > 0 {
            v.push(Line::from(format!("reconnects {reconnects}")));
        }
        let reasons = match &p.summary {
            Some(s) => s.saturation_reasons.clone(),
            None if state.current == Some(state.selected) => state.live.saturation_reasons.clone(),
            None => Vec::new(),
        };
        for r in reasons {
            v.push(Line::from(format!("saturated: {r}")));
        }
    }
    if v.is_empty() {
        v.push(Line::from("none"));
    }
    v
}

fn render_time_chart(state: &DashState, frame: &mut Frame, area: Rect) {
    let th = &state.theme;
    let block = Block::bordered().title(format!(" p50/p99 per s, last {}s ", state.window_s()));
    let Some(p) = state
        .phases
        .get(state.selected)
        .filter(|p| !p.series.is_empty())
    else {
        frame.render_widget(
            Paragraph::new(Line::styled("no samples yet", th.dim())).block(block),
            area,
        );
        return;
    };
    let t_end = p.series.back().map_or(0.0, |s| s.0);
    let t0 = (t_end - state.window_s() as f64).max(0.0);
    let pts = p.series.iter().filter(|s| s.0 >= t0);
    let p50: Vec<(f64, f64)> = pts.clone().map(|s| (s.0, s.1)).collect();
    let p99: Vec<(f64, f64)> = pts.clone().map(|s| (s.0, s.2)).collect();
    let ymax = p99.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let x1 = t_end.max(t0 + 1.0);
    let datasets = vec![
        Dataset::default()
            .name("p50")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(th.series(0))
            .data(&p50),
        Dataset::default()
            .name("p99")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(th.series(1))
            .data(&p99),
    ];
    frame.render_widget(
        Chart::new(datasets)
            .block(block)
            .legend_position(Some(LegendPosition::TopLeft))
            .x_axis(
                Axis::default()
                    .bounds([t0, x1])
                    .labels([format!("{t0:.0}s"), format!("{x1:.0}s")])
                    .style(th.dim()),
            )
            .y_axis(
                Axis::default()
                    .bounds([0.0, ymax])
                    .labels(["0".to_string(), fmt_us_short(ymax)])
                    .style(th.dim()),
            ),
        area,
    );
}
