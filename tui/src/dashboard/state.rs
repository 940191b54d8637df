//! The dashboard's state: one [`PhaseView`] per transport phase, merged from the run's per-second
//! progress, and the header's latest figures. Plain data changed only by [`DashState::apply`] and
//! the key handler.
//!
//! Each second carries that second's interval histogram and counters; they are merged with
//! `Histogram::add`, so nothing here holds raw samples.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use hdrhistogram::Histogram;
use tickbench_loadgen::progress::{Progress, SecondSnapshot, Stage};
use tickbench_loadgen::results::latency_summary;
use tickbench_loadgen::results::table::Table;
use tickbench_wire::{Floor, Summary, Transport, TransportSummary, SCHEMA_VERSION};

use crate::theme::Theme;
use crate::widgets::table::RowStatus;

/// Chart windows `+`/`-` step through, seconds.
pub const WINDOWS: [u64; 5] = [10, 30, 60, 120, 300];
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
    pub bytes: u64,
    pub errors: BTreeMap<String, u64>,
    /// CPU seconds of the server and of the load generator, from each second's percentages.
    pub server_cpu_s: f64,
    pub loadgen_cpu_s: f64,
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
        self.bytes += s.bytes;
        self.server_cpu_s += s.server_cpu_pct / 100.0;
        self.loadgen_cpu_s += s.loadgen_cpu_pct / 100.0;
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

    /// The phase as the comparison table shows it: the final summary when finished, else the
    /// running figures in the same shape (the measured window once it has started), so live and
    /// saved rows go through the same table model.
    pub fn summary(&self) -> TransportSummary {
        if let Some(s) = &self.summary {
            return s.clone();
        }
        let c = if self.measured_counts.secs > 0.0 {
            &self.measured_counts
        } else {
            &self.all_counts
        };
        TransportSummary {
            name: self.transport.name().to_string(),
            clients: self.clients,
            clients_receiving: 0,
            duration_s: c.secs,
            delivered: c.delivered,
            gaps: c.gaps,
            duplicates: c.duplicates,
            out_of_order: c.out_of_order,
            gap_notices: c.gap_notices,
            latency_us: latency_summary(self.histogram()),
            requests: c.requests,
            empty_responses: c.empty_responses,
            bytes: c.bytes,
            errors: c.errors.clone(),
            reconnects: c.reconnects,
            first_tick_ms_p50: 0.0,
            server_cpu_s: c.server_cpu_s,
            loadgen_cpu_s: c.loadgen_cpu_s,
            server_rss_bytes: 0,
            loadgen_rss_bytes: 0,
            // Decided when the phase ends; the header shows the live verdict.
            saturated: false,
            saturation_reasons: Vec::new(),
            schedule_lag_us_p99: 0,
            floor_multiples: None,
            steal_pct: None,
            bare_http: None,
            takeover: None,
            link: tickbench_wire::Link::default(),
            extra: BTreeMap::new(),
        }
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
    /// How the clients reach it (shown when not HTTP/1.1 in plaintext).
    pub link: tickbench_wire::Link,
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
            link: tickbench_wire::Link::default(),
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

    /// The comparison table of the phases so far, built by the same model as a saved run's: the
    /// phases wrapped in a draft of the summary the run will write.
    pub fn table(&self) -> Table {
        let draft = Summary {
            schema: SCHEMA_VERSION,
            tickbench_version: String::new(),
            label: String::new(),
            started_at: String::new(),
            complete: false,
            config: serde_json::Value::Null,
            floor_us: self.floor.unwrap_or_default(),
            floor_cross_us: None,
            fanout_floor: None,
            transports: self.phases.iter().map(PhaseView::summary).collect(),
            browser: None,
            hgrm_unit: Default::default(),
            host: None,
        };
        Table::from_summary(&draft)
    }

    /// Each phase's row status, in table order.
    pub fn row_status(&self) -> Vec<RowStatus> {
        self.phases.iter().map(|p| p.status).collect()
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
                link,
            } => {
                self.target = Some(target);
                self.link = link;
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
