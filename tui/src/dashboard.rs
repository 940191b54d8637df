//! The live run dashboard of `tickbench run` on a terminal.
//!
//! The run (`run_with_progress`) executes on its own std thread and reports through a **bounded**
//! channel it writes with `try_send`: one [`Progress::Second`] per second carrying that second's
//! interval histogram and counters. The screen drains the channel every frame and merges the
//! intervals with `Histogram::add`, so a slow terminal drops frames, never measurements, and nothing
//! here holds raw samples.
//!
//! Stopping (`q` / Ctrl-C) cancels the run's `CancellationToken` and keeps drawing until the run
//! has written its (incomplete) results and returned.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{EventStream, KeyCode, KeyEvent, KeyModifiers};
use hdrhistogram::Histogram;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition, Paragraph};
use ratatui::Frame;
use tickbench_loadgen::progress::{Progress, SecondSnapshot, Stage};
use tickbench_wire::{Floor, LatencySummary, Summary, Transport, TransportSummary};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::term::Theme;
use crate::widgets::table::{CompRow, RowStatus};
use crate::widgets::{fmt_num, fmt_secs, fmt_us_short, histogram, render_help, table, text_bar};
use crate::Action;

/// Chart windows `+`/`-` step through, seconds.
pub const WINDOWS: [u64; 5] = [10, 30, 60, 120, 300];
/// Capacity of the progress channel: a few seconds of slack for a stalled terminal.
pub const CHANNEL_CAPACITY: usize = 64;
/// Per-second points kept per phase for the time chart (the largest window).
const SERIES_CAP: usize = 300;

/// Counters summed over seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub secs: f64,
    pub delivered: u64,
    pub requests: u64,
    pub empty_responses: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub gap_notices: u64,
    pub reconnects: u64,
    pub errors: BTreeMap<String, u64>,
}

impl Counters {
    fn add(&mut self, s: &SecondSnapshot) {
        self.secs += 1.0;
        self.delivered += s.delivered;
        self.requests += s.requests;
        self.empty_responses += s.empty_responses;
        self.gaps += s.gaps;
        self.duplicates += s.duplicates;
        self.out_of_order += s.out_of_order;
        self.gap_notices += s.gap_notices;
        self.reconnects += s.reconnects;
        for (k, v) in &s.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
    }
}

/// One transport phase as the dashboard knows it.
#[derive(Debug, Clone)]
pub struct PhaseView {
    pub transport: Transport,
    pub status: RowStatus,
    /// Clients the phase asked for.
    pub clients: u64,
    /// The final row, once the phase finished.
    pub summary: Option<TransportSummary>,
    /// Measured-window seconds merged (what the results will say).
    pub measured: Histogram<u64>,
    pub measured_counts: Counters,
    /// Every second of the phase, ramp and warm-up included (what the histogram panel shows
    /// before the measured window starts).
    pub all: Histogram<u64>,
    pub all_counts: Counters,
    /// (phase second, p50 µs, p99 µs) per second, for the time chart.
    pub series: VecDeque<(f64, f64, f64)>,
}

impl PhaseView {
    fn new(transport: Transport) -> Self {
        Self {
            transport,
            status: RowStatus::Pending,
            clients: 0,
            summary: None,
            measured: new_hist(),
            measured_counts: Counters::default(),
            all: new_hist(),
            all_counts: Counters::default(),
            series: VecDeque::new(),
        }
    }

    /// The histogram the panels show: the measured window once it has samples.
    pub fn histogram(&self) -> &Histogram<u64> {
        if self.measured.is_empty() {
            &self.all
        } else {
            &self.measured
        }
    }

    /// The comparison-table row: the final one when finished, else the running figures.
    pub fn row(&self) -> CompRow {
        if let Some(s) = &self.summary {
            return CompRow::from_summary(s);
        }
        if self.status == RowStatus::Pending {
            return CompRow::pending(self.transport.name());
        }
        let c = if self.measured_counts.secs > 0.0 {
            &self.measured_counts
        } else {
            &self.all_counts
        };
        let secs = c.secs.max(1.0);
        let h = self.histogram();
        CompRow {
            name: self.transport.name().to_string(),
            status: self.status,
            clients: self.clients,
            deliveries_per_s: c.delivered as f64 / secs,
            requests_per_s: c.requests as f64 / secs,
            empty_pct: if c.requests > 0 {
                100.0 * c.empty_responses as f64 / c.requests as f64
            } else {
                0.0
            },
            latency: (!h.is_empty()).then(|| latency_summary(h)),
            gaps: c.gaps + c.out_of_order,
            dups: c.duplicates,
            errors: c.errors.values().sum(),
            saturated: false,
        }
    }
}

/// p50…max of a histogram, as the results file stores them.
pub fn latency_summary(h: &Histogram<u64>) -> LatencySummary {
    LatencySummary {
        min: h.min(),
        p50: h.value_at_quantile(0.5),
        p90: h.value_at_quantile(0.9),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
        mean: h.mean(),
    }
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// The latest second's figures for the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Live {
    pub stage: Option<Stage>,
    pub phase_elapsed: Duration,
    pub run_elapsed: Duration,
    pub clients_connected: u64,
    pub clients_target: u64,
    pub ticks_per_s: f64,
    pub server_cpu_pct: f64,
    pub loadgen_cpu_pct: f64,
    pub saturated: bool,
    pub saturation_reasons: Vec<String>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct DashState {
    /// Server being measured, `None` until the run starts.
    pub target: Option<String>,
    pub phases: Vec<PhaseView>,
    /// Index of the running phase.
    pub current: Option<usize>,
    /// Phase the panels show.
    pub selected: usize,
    /// Selection follows the running phase until the user picks one.
    pub follow: bool,
    pub total: Duration,
    /// Duration of the running phase (ramp + warm-up + measured).
    pub phase_duration: Duration,
    pub floor: Option<Floor>,
    pub live: Live,
    /// Index into [`WINDOWS`].
    pub window: usize,
    pub help: bool,
    /// `q` was pressed: the run is being stopped.
    pub stopping: bool,
    /// The run is over and its results are in this folder.
    pub finished: Option<(PathBuf, bool)>,
    /// The run failed with this error.
    pub error: Option<String>,
    pub theme: Theme,
}

impl DashState {
    pub fn new(theme: Theme) -> Self {
        Self {
            target: None,
            phases: Vec::new(),
            current: None,
            selected: 0,
            follow: true,
            total: Duration::ZERO,
            phase_duration: Duration::ZERO,
            floor: None,
            live: Live::default(),
            window: 2,
            help: false,
            stopping: false,
            finished: None,
            error: None,
            theme,
        }
    }

    /// Chart window in seconds.
    pub fn window_s(&self) -> u64 {
        WINDOWS[self.window]
    }

    fn phase_mut(&mut self, t: Transport) -> &mut PhaseView {
        if let Some(i) = self.phases.iter().position(|p| p.transport == t) {
            &mut self.phases[i]
        } else {
            self.phases.push(PhaseView::new(t));
            self.phases.last_mut().expect("just pushed")
        }
    }

    /// Applies one event from the run.
    pub fn apply(&mut self, p: Progress) {
        match p {
            Progress::Started {
                target,
                transports,
                total,
                floor_us_p50,
                floor_us_p99,
            } => {
                self.target = Some(target);
                self.total = total;
                self.floor = Some(Floor {
                    p50: floor_us_p50,
                    p99: floor_us_p99,
                });
                self.phases = transports.into_iter().map(PhaseView::new).collect();
            }
            Progress::PhaseStarted {
                transport,
                index: _,
                of: _,
                clients,
                duration,
            } => {
                self.phase_duration = duration;
                let ph = self.phase_mut(transport);
                ph.status = RowStatus::Running;
                ph.clients = clients;
                let i = self
                    .phases
                    .iter()
                    .position(|p| p.transport == transport)
                    .unwrap_or(0);
                self.current = Some(i);
                if self.follow {
                    self.selected = i;
                }
                self.live.stage = Some(Stage::Ramp);
            }
            Progress::Second(s) => self.apply_second(&s),
            Progress::PhaseFinished(ts) => {
                if let Ok(t) = ts.name.parse::<Transport>() {
                    let ph = self.phase_mut(t);
                    ph.status = RowStatus::Done;
                    ph.summary = Some(*ts);
                }
            }
            Progress::Finished { summary, dir } => self.finish(&summary, dir),
        }
    }

    fn apply_second(&mut self, s: &SecondSnapshot) {
        self.live = Live {
            stage: Some(s.stage),
            phase_elapsed: s.phase_elapsed,
            run_elapsed: s.run_elapsed,
            clients_connected: s.clients_connected,
            clients_target: s.clients_target,
            ticks_per_s: s.ticks_per_s,
            server_cpu_pct: s.server_cpu_pct,
            loadgen_cpu_pct: s.loadgen_cpu_pct,
            saturated: s.saturated,
            saturation_reasons: s.saturation_reasons.clone(),
        };
        if s.run_total > Duration::ZERO {
            self.total = s.run_total;
        }
        let ph = self.phase_mut(s.transport);
        if ph.status == RowStatus::Pending {
            ph.status = RowStatus::Running;
            ph.clients = s.clients_target;
        }
        // A histogram that does not fit the bounds is a bug upstream; the second is still counted.
        let _ = ph.all.add(&s.interval);
        ph.all_counts.add(s);
        if s.stage == Stage::Measure {
            let _ = ph.measured.add(&s.interval);
            ph.measured_counts.add(s);
        }
        if !s.interval.is_empty() {
            ph.series.push_back((
                s.phase_elapsed.as_secs_f64(),
                s.interval.value_at_quantile(0.5) as f64,
                s.interval.value_at_quantile(0.99) as f64,
            ));
            while ph.series.len() > SERIES_CAP {
                ph.series.pop_front();
            }
        }
    }

    /// The run ended: every phase row becomes the saved one.
    pub fn finish(&mut self, summary: &Summary, dir: PathBuf) {
        for t in &summary.transports {
            if let Ok(tr) = t.name.parse::<Transport>() {
                let ph = self.phase_mut(tr);
                ph.status = RowStatus::Done;
                ph.summary = Some(t.clone());
            }
        }
        self.floor = Some(summary.floor_us);
        self.current = None;
        self.finished = Some((dir, summary.complete));
    }
}

const HELP: &[(&str, &str)] = &[
    ("q / Ctrl-C", "stop the run (results are still written)"),
    ("Tab / →", "next transport"),
    ("S-Tab / ←", "previous transport"),
    ("+ / -", "longer / shorter chart window"),
    ("f", "follow the running phase again"),
    ("?", "this help"),
];

/// Keys of the dashboard. `Quit` asks the driver to stop the run (or to leave, once it is over).
pub fn handle_key(state: &mut DashState, key: KeyEvent) -> Action {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Action::Quit;
    }
    if state.help {
        state.help = false;
        return Action::None;
    }
    let n = state.phases.len().max(1);
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
            state.selected = (state.selected + 1) % n;
            state.follow = false;
        }
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
            state.selected = (state.selected + n - 1) % n;
            state.follow = false;
        }
        KeyCode::Char('f') => {
            state.follow = true;
            if let Some(c) = state.current {
                state.selected = c;
            }
        }
        KeyCode::Char('+') | KeyCode::Char('=') => {
            state.window = (state.window + 1).min(WINDOWS.len() - 1);
        }
        KeyCode::Char('-') | KeyCode::Char('_') => state.window = state.window.saturating_sub(1),
        KeyCode::Char('?') => state.help = true,
        _ => {}
    }
    Action::None
}

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

    let rows: Vec<CompRow> = state.phases.iter().map(PhaseView::row).collect();
    table::render_table(
        frame,
        table_area,
        Block::bordered().title(" transports (▶ running, ! saturated) "),
        &rows,
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

/// `tickbench run` with the dashboard: the run on its own thread, the screen here.
pub fn run(opts: tickbench_loadgen::RunOpts) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let cancel = CancellationToken::new();
    let (done_tx, done_rx) = oneshot::channel();
    let run_cancel = cancel.clone();
    // Raw mode turns Ctrl-C into a key, but SIGTERM (or SIGINT from `kill`) must stop it too.
    tickbench_loadgen::cancel_on_signals(cancel.clone())?;
    let worker = std::thread::Builder::new()
        .name("tickbench-run".into())
        .spawn(move || {
            let r = tickbench_loadgen::run_with_progress(opts, Some(tx), run_cancel);
            let _ = done_tx.send(r.map_err(anyhow::Error::from));
        })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut state = DashState::new(Theme::from_env());
    let mut guard = crate::term::TerminalGuard::new()?;
    let result = rt.block_on(event_loop(
        &mut guard.terminal,
        &mut state,
        rx,
        done_rx,
        &cancel,
    ));
    drop(guard);
    // Whatever ended the loop, the run must not outlive the screen unnoticed.
    cancel.cancel();
    let _ = worker.join();
    let (summary, dir) = result?;
    // The same epilogue as the plain mode, so a dashboard run leaves the table in the scrollback.
    println!("{}", tickbench_loadgen::results::render_table(&summary));
    for w in tickbench_loadgen::results::warnings(&summary) {
        println!("{w}");
    }
    if summary.complete {
        println!("results: {}", dir.display());
    } else {
        println!("interrupted: partial results in {}", dir.display());
    }
    Ok(())
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut DashState,
    mut rx: mpsc::Receiver<Progress>,
    mut done: oneshot::Receiver<anyhow::Result<(Summary, PathBuf)>>,
    cancel: &CancellationToken,
) -> anyhow::Result<(Summary, PathBuf)> {
    let mut events = EventStream::new();
    let mut frames = tokio::time::interval(crate::app::frame_period());
    frames.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut outcome: Option<anyhow::Result<(Summary, PathBuf)>> = None;
    loop {
        tokio::select! {
            _ = frames.tick() => {
                while let Ok(p) = rx.try_recv() {
                    state.apply(p);
                }
                terminal.draw(|f| render(state, f))?;
            }
            r = &mut done, if outcome.is_none() => {
                while let Ok(p) = rx.try_recv() {
                    state.apply(p);
                }
                let r = r.unwrap_or_else(|_| Err(anyhow::anyhow!("the run thread panicked")));
                match &r {
                    Ok((summary, dir)) => {
                        if state.finished.is_none() {
                            state.finish(summary, dir.clone());
                        }
                    }
                    Err(e) => {
                        // Failed before it started (bad flags, unreachable target): nothing to
                        // look at, so the error goes straight to the shell.
                        if state.target.is_none() {
                            return r;
                        }
                        state.error = Some(format!("{e:#}"));
                    }
                }
                if state.stopping {
                    return r;
                }
                outcome = Some(r);
            }
            _ = cancel.cancelled(), if !state.stopping => {
                // A signal stopped the run: leave as soon as its results are written.
                state.stopping = true;
                if let Some(r) = outcome.take() {
                    return r;
                }
            }
            ev = crate::app::next_event(&mut events) => {
                let ev = ev?;
                let Some(key) = crate::app::key_press(&ev) else { continue };
                if handle_key(state, key) == Action::Quit {
                    if let Some(r) = outcome.take() {
                        return r;
                    }
                    state.stopping = true;
                    cancel.cancel();
                }
            }
        }
    }
}
