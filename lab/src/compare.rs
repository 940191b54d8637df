//! `tickbench compare BASELINE CURRENT`: the regression gate.
//!
//! Each side is a `summary.json`, a `sweep.json`, or a results folder holding one. Phases are
//! matched by transport name (summary.json) or by cell id (sweep.json, e.g. `poll-c100-r5-i2s`),
//! and every metric gets a row with baseline, current, delta, limit and verdict.
//!
//! # What is gated by default, and why
//! Absolute times differ between machines (a CI runner is not the laptop the baseline came from),
//! so the default gate is on what a machine does not change:
//!
//! | metric | gate |
//! |---|---|
//! | loss = gaps + duplicates + out-of-order | current ≤ `max_loss` (default 0), whatever the baseline |
//! | requests per delivered tick | ≤ baseline × (1 + `requests_per_tick`), default +15 %, and more than 0.01 above it |
//! | empty-response share | ≤ baseline + `empty_pct` points, default 5 |
//! | bytes per delivered tick | ≤ baseline × (1 + `bytes_per_tick`), default +10 %, and more than 1 byte above |
//! | push transports (long-poll, streams): p50 / floor p50 and p99 / floor p50 | ≤ baseline × (1 + `latency`), default +200 % (3×), and more than 1 floor above |
//! | schedule-bound transports (poll, jsonp, piggyback): p50 and p99 | ≤ baseline × (1 + `schedule_latency`), default +50 %, and more than 1 ms above |
//!
//! *Floor-relative latency*: the loopback floor (half a TCP round trip, measured in the same run)
//! scales with the machine like the server's own work does, so `p50 / floor_p50` cancels most of
//! the machine. The p99 is divided by the floor's **p50**, not its p99: the floor's tail is
//! too noisy to divide by. The floor is a few µs on loopback and moves by tens of percent between
//! runs on a busy machine (2.9 µs and 30.6 µs in two consecutive runs on the 2-core dev box), so
//! the tolerance is generous (3×) and a ratio's verdict stands only when the absolute latency
//! moved the same way beyond the same tolerance: a uniformly slower machine (floor and latency
//! both up) passes, a floor that jumped alone passes, a server that starts batching or flushing
//! late (latency up tens of ×, on any machine) fails. Absolute latency never fails a run by itself
//! unless `--absolute` is given.
//!
//! *Schedule-bound latency*: a polling client's latency is set by its interval (a tick waits half
//! an interval on average), and a piggyback client's by its own request rate, identically on every
//! machine. Dividing it by the floor would turn a faster machine into a "regression", so those
//! transports are gated on their latency as measured (which *is* what a machine does not change),
//! with their own, tighter tolerance: a doubled interval must fail.
//!
//! `--absolute` adds absolute p50/p99 (µs) and server CPU per tick, within `absolute` (default
//! +50 %): use it only when both runs come from the same machine.
//!
//! A current phase that delivered nothing (while the baseline's did) is a regression on its own:
//! its ratios would otherwise read as zeros, i.e. "better".
//!
//! Warnings (a row each, exit 0 unless `--strict`): a current phase marked `saturated`, a current
//! run with `complete: false`, errors, declared gaps, clients that never received a tick,
//! deliveries per second under half the baseline's, phases the baseline has but the current
//! run lacks, and runs configured differently (clients, rate, durations…: compare like with like).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tickbench_wire::{Floor, Summary, Transport, TransportSummary, SCHEMA_VERSION};

use crate::record::{SweepRecord, SWEEP_KIND, SWEEP_SCHEMA};

/// `tickbench compare` options.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareOpts {
    /// Baseline: summary.json, sweep.json, or a results folder containing one.
    pub baseline: PathBuf,
    /// Current run: summary.json, sweep.json, or a results folder containing one.
    pub current: PathBuf,
    /// Tolerances file (TOML): top-level keys are defaults, `[transport.<name>]` tables override
    /// them for one transport or sweep cell. Flags override the file.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
    /// Output: a Markdown table (`md`) or github-action-benchmark "customSmallerIsBetter" JSON.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Also gate absolute latency (p50, p99) and server CPU per tick. Only meaningful when both
    /// runs come from the same machine.
    #[arg(long)]
    pub absolute: bool,
    /// Fail (exit 1) on warnings too: saturated phases, incomplete runs, errors, missing phases.
    #[arg(long)]
    pub strict: bool,
    /// Allowed relative rise of requests per delivered tick (0.15 = +15 %).
    #[arg(long, value_name = "FRACTION")]
    pub tol_requests_per_tick: Option<f64>,
    /// Allowed rise of the empty-response share, percentage points.
    #[arg(long, value_name = "POINTS")]
    pub tol_empty_pct: Option<f64>,
    /// Allowed relative rise of bytes per delivered tick.
    #[arg(long, value_name = "FRACTION")]
    pub tol_bytes_per_tick: Option<f64>,
    /// Allowed relative rise of floor-relative latency (2.0 = +200 %, i.e. up to 3×).
    #[arg(long, value_name = "FRACTION")]
    pub tol_latency: Option<f64>,
    /// Allowed relative rise of floor-relative p99 latency (default 4.0 = +400 %, i.e. up to 5×):
    /// a tail from a few seconds of samples moves far more between runs than a median does.
    #[arg(long, value_name = "FRACTION")]
    pub tol_latency_p99: Option<f64>,
    /// Allowed relative rise of poll/jsonp/piggyback latency (set by the schedule, not the machine).
    #[arg(long, value_name = "FRACTION")]
    pub tol_schedule_latency: Option<f64>,
    /// Allowed relative rise of absolute latency and CPU per tick under `--absolute`.
    #[arg(long, value_name = "FRACTION")]
    pub tol_absolute: Option<f64>,
    /// Ticks that may be lost (gaps + duplicates + out-of-order) in the current run.
    #[arg(long, value_name = "N")]
    pub max_loss: Option<u64>,
}

/// Output format of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Json,
}

/// Input that cannot be compared: exit code 2 with this one line.
#[derive(Debug, thiserror::Error)]
pub enum BadInput {
    #[error("{0}: no such file or folder")]
    Missing(String),
    #[error("{0}: folder holds neither summary.json nor sweep.json")]
    EmptyDir(String),
    #[error("{path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}: schema {found}, this tickbench reads schema {expected}; re-run the baseline with this version")]
    Schema {
        path: String,
        found: u64,
        expected: u32,
    },
    #[error("cannot compare a {0} with a {1}")]
    KindMismatch(&'static str, &'static str),
    #[error("no common transport (baseline has: {0}; current has: {1})")]
    NoCommon(String, String),
    #[error("thresholds {path}: {message}")]
    Thresholds { path: String, message: String },
    #[error("--{0} must be a finite number >= 0")]
    BadFlag(&'static str),
}

/// Tolerances of the gate; see the module docs for what each bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub requests_per_tick: f64,
    pub empty_pct: f64,
    pub bytes_per_tick: f64,
    pub latency: f64,
    /// Like `latency`, for p99 of the push transports.
    pub latency_p99: f64,
    pub schedule_latency: f64,
    pub absolute: f64,
    pub max_loss: u64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            requests_per_tick: 0.15,
            empty_pct: 5.0,
            bytes_per_tick: 0.10,
            latency: 2.0,
            latency_p99: 4.0,
            schedule_latency: 0.5,
            absolute: 0.5,
            max_loss: 0,
        }
    }
}

/// Some tolerances, as a thresholds file or the flags give them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialTolerances {
    requests_per_tick: Option<f64>,
    empty_pct: Option<f64>,
    bytes_per_tick: Option<f64>,
    latency: Option<f64>,
    latency_p99: Option<f64>,
    schedule_latency: Option<f64>,
    absolute: Option<f64>,
    max_loss: Option<u64>,
}

impl PartialTolerances {
    fn apply(&self, t: &mut Tolerances) {
        let set = |dst: &mut f64, src: Option<f64>| {
            if let Some(v) = src {
                *dst = v;
            }
        };
        set(&mut t.requests_per_tick, self.requests_per_tick);
        set(&mut t.empty_pct, self.empty_pct);
        set(&mut t.bytes_per_tick, self.bytes_per_tick);
        set(&mut t.latency, self.latency);
        set(&mut t.latency_p99, self.latency_p99);
        set(&mut t.schedule_latency, self.schedule_latency);
        set(&mut t.absolute, self.absolute);
        if let Some(v) = self.max_loss {
            t.max_loss = v;
        }
    }

    fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("requests_per_tick", self.requests_per_tick),
            ("empty_pct", self.empty_pct),
            ("bytes_per_tick", self.bytes_per_tick),
            ("latency", self.latency),
            ("latency_p99", self.latency_p99),
            ("schedule_latency", self.schedule_latency),
            ("absolute", self.absolute),
        ] {
            if let Some(v) = v {
                if !v.is_finite() || v < 0.0 {
                    return Err(format!("{name} must be a finite number >= 0, got {v}"));
                }
            }
        }
        Ok(())
    }
}

/// The thresholds file: top-level defaults plus `[transport.<name>]` overrides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsFile {
    requests_per_tick: Option<f64>,
    empty_pct: Option<f64>,
    bytes_per_tick: Option<f64>,
    latency: Option<f64>,
    latency_p99: Option<f64>,
    schedule_latency: Option<f64>,
    absolute: Option<f64>,
    max_loss: Option<u64>,
    #[serde(default)]
    transport: BTreeMap<String, PartialTolerances>,
}

/// Resolved tolerances: defaults < file < file's per-transport table < flags.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    base: Tolerances,
    per: BTreeMap<String, PartialTolerances>,
    flags: PartialTolerances,
}

impl Thresholds {
    /// Tolerances for one phase key (transport name or cell id; a cell id also matches the
    /// `[transport.<its transport>]` table).
    pub fn for_key(&self, key: &str, transport: &str) -> Tolerances {
        let mut t = self.base;
        if let Some(p) = self.per.get(transport) {
            p.apply(&mut t);
        }
        if key != transport {
            if let Some(p) = self.per.get(key) {
                p.apply(&mut t);
            }
        }
        self.flags.apply(&mut t);
        t
    }

    fn load(opts: &CompareOpts) -> Result<Thresholds, BadInput> {
        let mut th = Thresholds::default();
        if let Some(path) = &opts.thresholds {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| BadInput::Thresholds {
                path: shown.clone(),
                message: e.to_string(),
            })?;
            let file: ThresholdsFile = toml::from_str(&text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                    .unwrap_or(1);
                BadInput::Thresholds {
                    path: format!("{shown}:{line}"),
                    message: e.message().trim().to_string(),
                }
            })?;
            let top = PartialTolerances {
                requests_per_tick: file.requests_per_tick,
                empty_pct: file.empty_pct,
                bytes_per_tick: file.bytes_per_tick,
                latency: file.latency,
                latency_p99: file.latency_p99,
                schedule_latency: file.schedule_latency,
                absolute: file.absolute,
                max_loss: file.max_loss,
            };
            for p in std::iter::once(&top).chain(file.transport.values()) {
                p.check().map_err(|message| BadInput::Thresholds {
                    path: shown.clone(),
                    message,
                })?;
            }
            top.apply(&mut th.base);
            th.per = file.transport;
        }
        th.flags = PartialTolerances {
            requests_per_tick: opts.tol_requests_per_tick,
            empty_pct: opts.tol_empty_pct,
            bytes_per_tick: opts.tol_bytes_per_tick,
            latency: opts.tol_latency,
            latency_p99: opts.tol_latency_p99,
            schedule_latency: opts.tol_schedule_latency,
            absolute: opts.tol_absolute,
            max_loss: opts.max_loss,
        };
        for (flag, v) in [
            ("tol-requests-per-tick", opts.tol_requests_per_tick),
            ("tol-empty-pct", opts.tol_empty_pct),
            ("tol-bytes-per-tick", opts.tol_bytes_per_tick),
            ("tol-latency", opts.tol_latency),
            ("tol-latency-p99", opts.tol_latency_p99),
            ("tol-schedule-latency", opts.tol_schedule_latency),
            ("tol-absolute", opts.tol_absolute),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err(BadInput::BadFlag(flag));
            }
        }
        Ok(th)
    }
}

/// A loaded input: one run, or one sweep.
#[derive(Debug, Clone)]
pub enum Run {
    Summary(Summary),
    Sweep(Box<SweepRecord>),
}

impl Run {
    fn kind(&self) -> &'static str {
        match self {
            Run::Summary(_) => "summary.json (single run)",
            Run::Sweep(_) => "sweep.json (sweep)",
        }
    }

    fn complete(&self) -> bool {
        match self {
            Run::Summary(s) => s.complete,
            Run::Sweep(s) => s.complete,
        }
    }

    fn describe(&self) -> String {
        match self {
            Run::Summary(s) => format!("run `{}` of {}", s.label, s.started_at),
            Run::Sweep(s) => format!("sweep `{}` of {}", s.experiment.name, s.started_at),
        }
    }

    /// The comparable phases, by key.
    fn entries(&self) -> Vec<Entry> {
        match self {
            Run::Summary(s) => s
                .transports
                .iter()
                .map(|t| Entry {
                    key: t.name.clone(),
                    phase: t.clone(),
                    floor: s.floor_us,
                    // the run-wide warning row covers an incomplete summary
                    complete: true,
                })
                .collect(),
            Run::Sweep(s) => s
                .cells
                .iter()
                .filter_map(|c| {
                    let phase = c.phase()?.clone();
                    Some(Entry {
                        key: c.cell.id.clone(),
                        phase,
                        floor: c.floor().unwrap_or_default(),
                        complete: c.summary.as_ref().is_some_and(|s| s.complete),
                    })
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    key: String,
    phase: TransportSummary,
    floor: Floor,
    complete: bool,
}

/// Reads a summary.json, a sweep.json or a folder holding one, checking the schema version.
pub fn load_run(path: &Path) -> Result<Run, BadInput> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(BadInput::Missing(shown));
    }
    let file = if path.is_dir() {
        ["summary.json", "sweep.json"]
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| BadInput::EmptyDir(shown.clone()))?
    } else {
        path.to_path_buf()
    };
    let shown = file.display().to_string();
    let unreadable = |message: String| BadInput::Unreadable {
        path: shown.clone(),
        message,
    };
    let text = std::fs::read_to_string(&file).map_err(|e| unreadable(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| unreadable(format!("not JSON: {e}")))?;
    let schema = value.get("schema").and_then(|s| s.as_u64());
    if value.get("kind").and_then(|k| k.as_str()) == Some(SWEEP_KIND) {
        if schema != Some(SWEEP_SCHEMA as u64) {
            return Err(BadInput::Schema {
                path: shown,
                found: schema.unwrap_or(0),
                expected: SWEEP_SCHEMA,
            });
        }
        let sweep: SweepRecord = serde_json::from_value(value)
            .map_err(|e| unreadable(format!("not a tickbench sweep.json: {e}")))?;
        if let Some(c) = sweep
            .cells
            .iter()
            .filter_map(|c| c.summary.as_ref())
            .find(|s| s.schema != SCHEMA_VERSION)
        {
            return Err(BadInput::Schema {
                path: shown,
                found: c.schema as u64,
                expected: SCHEMA_VERSION,
            });
        }
        return Ok(Run::Sweep(Box::new(sweep)));
    }
    match schema {
        None => Err(unreadable(
            "not a tickbench summary.json or sweep.json (no \"schema\" field)".into(),
        )),
        Some(s) if s != SCHEMA_VERSION as u64 => Err(BadInput::Schema {
            path: shown,
            found: s,
            expected: SCHEMA_VERSION,
        }),
        Some(_) => serde_json::from_value(value)
            .map(Run::Summary)
            .map_err(|e| unreadable(format!("not a tickbench summary.json: {e}"))),
    }
}

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowVerdict {
    /// Within the limit.
    Ok,
    /// Improved beyond the tolerance (worth a new baseline).
    Better,
    Regression,
    /// Reported loudly; fails only with `--strict`.
    Warning,
    /// Shown for context, not gated.
    Info,
}

impl RowVerdict {
    fn md(self) -> &'static str {
        match self {
            RowVerdict::Ok => "ok",
            RowVerdict::Better => "better",
            RowVerdict::Regression => "**REGRESSION**",
            RowVerdict::Warning => "**WARNING**",
            RowVerdict::Info => "info",
        }
    }
}

/// One line of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Transport name or cell id (`(run)` for run-wide rows).
    pub key: String,
    pub metric: String,
    pub unit: &'static str,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// `+12.0 %`, `+3.1 pts`, or a note for warnings.
    pub delta: String,
    /// The bound the current value had to meet.
    pub limit: String,
    pub verdict: RowVerdict,
    /// Smaller is better and the value belongs on a dashboard (JSON output).
    pub chartable: bool,
}

/// The whole comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub baseline: String,
    pub current: String,
    pub rows: Vec<Row>,
    pub strict: bool,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == RowVerdict::Regression)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == RowVerdict::Warning)
            .count()
    }

    /// 0 nothing regressed, 1 regression (or a warning under `--strict`).
    pub fn exit_code(&self) -> u8 {
        if self.regressions() > 0 || (self.strict && self.warnings() > 0) {
            1
        } else {
            0
        }
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "## tickbench compare\n");
        let _ = writeln!(s, "- baseline: {}", self.baseline);
        let _ = writeln!(s, "- current: {}\n", self.current);
        let _ = writeln!(
            s,
            "| phase | metric | baseline | current | delta | limit | verdict |"
        );
        let _ = writeln!(s, "|---|---|---:|---:|---:|---|---|");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.key,
                if r.unit.is_empty() {
                    r.metric.clone()
                } else {
                    format!("{} ({})", r.metric, r.unit)
                },
                fmt_opt(r.baseline),
                fmt_opt(r.current),
                r.delta,
                r.limit,
                r.verdict.md()
            );
        }
        let (reg, warn) = (self.regressions(), self.warnings());
        let _ = writeln!(
            s,
            "\n**{}**: {reg} regression{}, {warn} warning{}{}.",
            if self.exit_code() == 0 {
                "PASS"
            } else {
                "FAIL"
            },
            if reg == 1 { "" } else { "s" },
            if warn == 1 { "" } else { "s" },
            if self.strict && warn > 0 {
                " (warnings fail under --strict)"
            } else {
                ""
            }
        );
        s
    }

    /// github-action-benchmark "customSmallerIsBetter": `[{"name","unit","value","range","extra"}]`,
    /// one entry per gated metric of the current run.
    pub fn json(&self) -> serde_json::Value {
        let items: Vec<serde_json::Value> = self
            .rows
            .iter()
            .filter(|r| r.chartable)
            .filter_map(|r| {
                let value = r.current?;
                let mut o = serde_json::json!({
                    "name": format!("{} - {}", r.key, r.metric),
                    "unit": r.unit,
                    "value": round(value),
                });
                if !r.limit.is_empty() {
                    o["range"] = serde_json::Value::String(r.limit.clone());
                }
                o["extra"] = serde_json::Value::String(format!(
                    "baseline {}; delta {}; {}",
                    fmt_opt(r.baseline),
                    r.delta,
                    match r.verdict {
                        RowVerdict::Regression => "REGRESSION",
                        RowVerdict::Better => "better",
                        _ => "ok",
                    }
                ));
                Some(o)
            })
            .collect();
        serde_json::Value::Array(items)
    }
}

fn round(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

fn fmt_opt(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v == v.trunc() && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) if v.abs() >= 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.3}"),
    }
}

/// How a gated metric is bounded.
#[derive(Debug, Clone, Copy)]
enum Gate {
    /// current ≤ max (loss).
    AtMost(u64),
    /// current ≤ base × (1 + tol) unless within `slack` of the baseline.
    Relative {
        tol: f64,
        slack: f64,
    },
    /// current ≤ base + tol (percentage points).
    Points(f64),
    Info,
}

fn gated(key: &str, metric: &str, unit: &'static str, base: f64, cur: f64, gate: Gate) -> Row {
    let (delta, limit, verdict) = match gate {
        Gate::AtMost(max) => (
            format!("{:+}", cur - base),
            format!("≤ {max}"),
            if cur > max as f64 {
                RowVerdict::Regression
            } else {
                RowVerdict::Ok
            },
        ),
        Gate::Relative { tol, slack } => {
            let limit_v = base * (1.0 + tol);
            let verdict = if cur > limit_v && cur - base > slack {
                RowVerdict::Regression
            } else if cur < base / (1.0 + tol) && base - cur > slack {
                RowVerdict::Better
            } else {
                RowVerdict::Ok
            };
            (
                rel_delta(base, cur),
                format!("≤ {} (+{:.0} %)", fmt_opt(Some(limit_v)), tol * 100.0),
                verdict,
            )
        }
        Gate::Points(tol) => {
            let verdict = if cur > base + tol {
                RowVerdict::Regression
            } else if cur < base - tol {
                RowVerdict::Better
            } else {
                RowVerdict::Ok
            };
            (
                format!("{:+.1} pts", cur - base),
                format!("≤ {:.1} (+{tol} pts)", base + tol),
                verdict,
            )
        }
        Gate::Info => (rel_delta(base, cur), String::new(), RowVerdict::Info),
    };
    Row {
        key: key.into(),
        metric: metric.into(),
        unit,
        baseline: Some(base),
        current: Some(cur),
        delta,
        limit,
        verdict,
        chartable: !matches!(gate, Gate::Info),
    }
}

fn rel_delta(base: f64, cur: f64) -> String {
    if base.abs() > f64::EPSILON {
        format!("{:+.1} %", 100.0 * (cur - base) / base)
    } else if cur.abs() > f64::EPSILON {
        "new".into()
    } else {
        "0".into()
    }
}

fn warning(key: &str, metric: &str, base: Option<f64>, cur: Option<f64>, note: String) -> Row {
    Row {
        key: key.into(),
        metric: metric.into(),
        unit: "",
        baseline: base,
        current: cur,
        delta: note,
        limit: String::new(),
        verdict: RowVerdict::Warning,
        chartable: false,
    }
}

/// Transports whose latency is set by a client-side schedule, not by the machine.
fn schedule_bound(name: &str) -> bool {
    matches!(
        name.parse::<Transport>(),
        Ok(Transport::Poll | Transport::Jsonp | Transport::Piggyback)
    )
}

/// Compares two loaded runs.
pub fn compare_runs(
    baseline: &Run,
    current: &Run,
    thresholds: &Thresholds,
    absolute: bool,
    strict: bool,
) -> Result<Comparison, BadInput> {
    if std::mem::discriminant(baseline) != std::mem::discriminant(current) {
        return Err(BadInput::KindMismatch(baseline.kind(), current.kind()));
    }
    let base = baseline.entries();
    let cur = current.entries();
    let names = |v: &[Entry]| {
        let n: Vec<&str> = v.iter().map(|e| e.key.as_str()).collect();
        if n.is_empty() {
            "nothing".to_string()
        } else {
            n.join(", ")
        }
    };
    if !base.iter().any(|b| cur.iter().any(|c| c.key == b.key)) {
        return Err(BadInput::NoCommon(names(&base), names(&cur)));
    }
    let mut rows = Vec::new();
    if !current.complete() {
        rows.push(warning(
            "(run)",
            "complete",
            None,
            None,
            "current run is complete:false (interrupted or failed)".into(),
        ));
    }
    let differing = config_differences(baseline, current);
    if !differing.is_empty() {
        rows.push(warning(
            "(run)",
            "configuration",
            None,
            None,
            format!("runs configured differently: {}", differing.join(", ")),
        ));
    }
    for b in &base {
        match cur.iter().find(|c| c.key == b.key) {
            Some(c) => compare_entry(b, c, thresholds, absolute, &mut rows),
            None => rows.push(warning(
                &b.key,
                "present",
                None,
                None,
                "in the baseline, missing from the current run".into(),
            )),
        }
    }
    for c in cur.iter().filter(|c| !base.iter().any(|b| b.key == c.key)) {
        rows.push(Row {
            key: c.key.clone(),
            metric: "present".into(),
            unit: "",
            baseline: None,
            current: None,
            delta: "new in the current run, not compared".into(),
            limit: String::new(),
            verdict: RowVerdict::Info,
            chartable: false,
        });
    }
    Ok(Comparison {
        baseline: baseline.describe(),
        current: current.describe(),
        rows,
        strict,
    })
}

/// Settings that differ between the two runs, other than where and how they were written.
fn config_differences(baseline: &Run, current: &Run) -> Vec<String> {
    // Where the results went, which process served them, and what follows from the machine
    // (workers default to the CPU count) or shows up as phase rows anyway (transports). The
    // server's epoch is the wall-clock start of each run's tick stream: different by design.
    const IGNORED: [&str; 10] = [
        "label",
        "out",
        "target",
        "no_tui",
        "workers",
        "server_bin",
        "server_pid",
        "server_version",
        "server_epoch_us",
        "transports",
    ];
    match (baseline, current) {
        (Run::Summary(b), Run::Summary(c)) => {
            let (Some(bo), Some(co)) = (b.config.as_object(), c.config.as_object()) else {
                return Vec::new();
            };
            let mut keys: Vec<&String> = bo.keys().chain(co.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| !IGNORED.contains(&k.as_str()) && bo.get(*k) != co.get(*k))
                .map(|k| {
                    let show = |v: Option<&serde_json::Value>| {
                        v.map(|v| v.to_string()).unwrap_or_else(|| "–".into())
                    };
                    format!("{k} {} → {}", show(bo.get(k)), show(co.get(k)))
                })
                .collect()
        }
        (Run::Sweep(b), Run::Sweep(c)) => {
            let (be, ce) = (&b.experiment, &c.experiment);
            let mut d = Vec::new();
            for (name, x, y) in [
                ("duration", be.duration.0, ce.duration.0),
                ("warmup", be.warmup.0, ce.warmup.0),
                ("ramp", be.ramp.0, ce.ramp.0),
            ] {
                if x != y {
                    d.push(format!("{name} {x:?} → {y:?}"));
                }
            }
            if b.quick != c.quick {
                d.push(format!("quick {} → {}", b.quick, c.quick));
            }
            d
        }
        _ => Vec::new(),
    }
}

fn compare_entry(b: &Entry, c: &Entry, th: &Thresholds, absolute: bool, rows: &mut Vec<Row>) {
    let key = c.key.as_str();
    let tol = th.for_key(key, &c.phase.name);
    let (bp, cp) = (&b.phase, &c.phase);
    // Warnings first: they change how every other row must be read.
    if cp.saturated {
        rows.push(warning(
            key,
            "saturated",
            None,
            None,
            format!(
                "load generator saturated: {}",
                if cp.saturation_reasons.is_empty() {
                    "no reason given".to_string()
                } else {
                    cp.saturation_reasons.join("; ")
                }
            ),
        ));
    }
    if !c.complete {
        rows.push(warning(
            key,
            "complete",
            None,
            None,
            "phase cut short".into(),
        ));
    }
    // A phase that delivered nothing has ratios of 0 that would read as "better": it is the
    // worst regression of all and must say so.
    if cp.delivered == 0 && bp.delivered > 0 {
        rows.push(Row {
            key: key.into(),
            metric: "delivered".into(),
            unit: "ticks",
            baseline: Some(bp.delivered as f64),
            current: Some(0.0),
            delta: "nothing delivered: every other row of this phase is meaningless".into(),
            limit: "> 0".into(),
            verdict: RowVerdict::Regression,
            chartable: false,
        });
    } else if cp.deliveries_per_s() < 0.5 * bp.deliveries_per_s() {
        rows.push(warning(
            key,
            "deliveries per second",
            Some(bp.deliveries_per_s()),
            Some(cp.deliveries_per_s()),
            "less than half the baseline's: same configuration?".into(),
        ));
    }
    rows.push(gated(
        key,
        "loss (gaps+dup+ooo)",
        "ticks",
        bp.loss() as f64,
        cp.loss() as f64,
        Gate::AtMost(tol.max_loss),
    ));
    rows.push(gated(
        key,
        "requests per tick",
        "req/tick",
        bp.requests_per_tick(),
        cp.requests_per_tick(),
        Gate::Relative {
            tol: tol.requests_per_tick,
            slack: 0.01,
        },
    ));
    rows.push(gated(
        key,
        "empty responses",
        "%",
        bp.empty_pct(),
        cp.empty_pct(),
        Gate::Points(tol.empty_pct),
    ));
    rows.push(gated(
        key,
        "bytes per tick",
        "B/tick",
        bp.bytes_per_tick(),
        cp.bytes_per_tick(),
        Gate::Relative {
            tol: tol.bytes_per_tick,
            slack: 1.0,
        },
    ));
    let abs_gate = |slack| {
        if absolute {
            Gate::Relative {
                tol: tol.absolute,
                slack,
            }
        } else {
            Gate::Info
        }
    };
    if schedule_bound(&cp.name) {
        let gate = Gate::Relative {
            tol: tol.schedule_latency,
            slack: 1.0,
        };
        for (m, bv, cv) in [
            (
                "latency p50 (schedule-bound)",
                bp.latency_us.p50,
                cp.latency_us.p50,
            ),
            (
                "latency p99 (schedule-bound)",
                bp.latency_us.p99,
                cp.latency_us.p99,
            ),
        ] {
            rows.push(gated(key, m, "ms", bv as f64 / 1e3, cv as f64 / 1e3, gate));
        }
    } else {
        let (bf, cf) = (b.floor.p50, c.floor.p50);
        if bf > 0.0 && cf > 0.0 {
            for (m, bv, cv, t) in [
                (
                    "latency p50 / floor p50",
                    bp.latency_us.p50,
                    cp.latency_us.p50,
                    tol.latency,
                ),
                (
                    "latency p99 / floor p50",
                    bp.latency_us.p99,
                    cp.latency_us.p99,
                    tol.latency_p99,
                ),
            ] {
                let gate = Gate::Relative { tol: t, slack: 1.0 };
                let (bv, cv) = (bv as f64, cv as f64);
                let mut row = gated(key, m, "x", bv / bf, cv / cf, gate);
                // The floor is a few µs and can move 10× between runs on a busy machine; a ratio
                // that moved only because the floor did is not a verdict on the server. So the
                // ratio's verdict stands only when the absolute latency moved the same way
                // beyond the same tolerance (slack 50 µs).
                let abs_up = cv > bv * (1.0 + t) && cv - bv > 50.0;
                let abs_down = cv < bv / (1.0 + t) && bv - cv > 50.0;
                let confirmed = match row.verdict {
                    RowVerdict::Regression => abs_up,
                    RowVerdict::Better => abs_down,
                    _ => true,
                };
                if !confirmed {
                    row.verdict = RowVerdict::Ok;
                    row.delta = format!(
                        "{} (floor {:.1} → {:.1} µs; absolute {})",
                        row.delta,
                        bf,
                        cf,
                        rel_delta(bv, cv)
                    );
                }
                rows.push(row);
            }
        } else {
            rows.push(warning(
                key,
                "floor",
                Some(bf),
                Some(cf),
                "no loopback floor measured: floor-relative latency not gated".into(),
            ));
        }
        rows.push(gated(
            key,
            "latency p50",
            "us",
            bp.latency_us.p50 as f64,
            cp.latency_us.p50 as f64,
            abs_gate(50.0),
        ));
        rows.push(gated(
            key,
            "latency p99",
            "us",
            bp.latency_us.p99 as f64,
            cp.latency_us.p99 as f64,
            abs_gate(50.0),
        ));
    }
    rows.push(gated(
        key,
        "server CPU per tick",
        "us/tick",
        bp.server_cpu_us_per_tick(),
        cp.server_cpu_us_per_tick(),
        abs_gate(0.5),
    ));
    rows.push(gated(
        key,
        "deliveries per second",
        "ticks/s",
        bp.deliveries_per_s(),
        cp.deliveries_per_s(),
        Gate::Info,
    ));
    rows.push(gated(
        key,
        "floor p50",
        "us",
        b.floor.p50,
        c.floor.p50,
        Gate::Info,
    ));
    if cp.error_count() > 0 {
        let kinds: Vec<String> = cp.errors.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rows.push(warning(
            key,
            "errors",
            Some(bp.error_count() as f64),
            Some(cp.error_count() as f64),
            kinds.join(", "),
        ));
    }
    if cp.gap_notices > 0 {
        rows.push(warning(
            key,
            "gap notices",
            Some(bp.gap_notices as f64),
            Some(cp.gap_notices as f64),
            "the server declared ticks lost to its journal bound".into(),
        ));
    }
    if cp.clients_receiving < cp.clients {
        rows.push(warning(
            key,
            "clients receiving",
            Some(bp.clients_receiving as f64),
            Some(cp.clients_receiving as f64),
            format!(
                "only {} of {} clients got a tick",
                cp.clients_receiving, cp.clients
            ),
        ));
    }
}

/// `tickbench compare`: prints the table (or JSON) on stdout and returns the exit code.
pub fn compare(opts: CompareOpts) -> u8 {
    match run_compare(&opts) {
        Ok((cmp, out)) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout
                .write_all(out.as_bytes())
                .and_then(|_| stdout.flush())
            {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("tickbench compare: {e}");
                    return 2;
                }
            }
            if opts.format == Format::Json {
                eprintln!(
                    "tickbench compare: {} regression(s), {} warning(s)",
                    cmp.regressions(),
                    cmp.warnings()
                );
            }
            cmp.exit_code()
        }
        Err(e) => {
            eprintln!("tickbench compare: {e}");
            2
        }
    }
}

fn run_compare(opts: &CompareOpts) -> Result<(Comparison, String), BadInput> {
    let thresholds = Thresholds::load(opts)?;
    let baseline = load_run(&opts.baseline)?;
    let current = load_run(&opts.current)?;
    let cmp = compare_runs(&baseline, &current, &thresholds, opts.absolute, opts.strict)?;
    let out = match opts.format {
        Format::Md => cmp.markdown(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&cmp.json()).unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
    };
    Ok((cmp, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_support::{phase, summary};

    fn th() -> Thresholds {
        Thresholds::default()
    }

    fn cmp(b: Summary, c: Summary) -> Comparison {
        compare_runs(&Run::Summary(b), &Run::Summary(c), &th(), false, false).unwrap()
    }

    fn verdict_of<'a>(c: &'a Comparison, key: &str, metric: &str) -> &'a Row {
        c.rows
            .iter()
            .find(|r| r.key == key && r.metric == metric)
            .unwrap_or_else(|| panic!("no row {key} {metric}"))
    }

    fn pair() -> Summary {
        summary(vec![phase("poll"), phase("sse")])
    }

    #[test]
    fn identical_runs_pass() {
        let c = cmp(pair(), pair());
        assert_eq!(c.exit_code(), 0, "{}", c.markdown());
        assert_eq!(c.regressions(), 0);
        assert_eq!(c.warnings(), 0);
        assert!(c.markdown().contains("**PASS**"));
    }

    #[test]
    fn loss_is_gated_at_zero_whatever_the_baseline() {
        let mut cur = pair();
        cur.transports[1].gaps = 1;
        let c = cmp(pair(), cur);
        assert_eq!(c.exit_code(), 1);
        assert_eq!(
            verdict_of(&c, "sse", "loss (gaps+dup+ooo)").verdict,
            RowVerdict::Regression
        );
    }

    #[test]
    fn relative_tolerances_flag_and_forgive() {
        let mut cur = pair();
        cur.transports[0].requests = 700; // +40 % requests per tick > 15 %
        cur.transports[1].bytes = 1_600_000; // +6.7 % bytes per tick < 10 %
        let c = cmp(pair(), cur);
        assert_eq!(
            verdict_of(&c, "poll", "requests per tick").verdict,
            RowVerdict::Regression
        );
        assert_eq!(
            verdict_of(&c, "sse", "bytes per tick").verdict,
            RowVerdict::Ok
        );
        // a looser flag forgives it
        let opts = CompareOpts {
            tol_requests_per_tick: Some(0.25),
            ..opts()
        };
        let mut cur = pair();
        cur.transports[0].requests = 560;
        let t = Thresholds::load(&opts).unwrap();
        let c = compare_runs(&Run::Summary(pair()), &Run::Summary(cur), &t, false, false).unwrap();
        assert_eq!(c.exit_code(), 0);
    }

    #[test]
    fn latency_is_floor_relative_for_push_and_absolute_only_on_request() {
        // current machine twice as slow in every respect: floor and latency double → not a regression
        let mut cur = pair();
        cur.floor_us.p50 *= 2.0;
        cur.transports[1].latency_us.p50 *= 2;
        cur.transports[1].latency_us.p99 *= 2;
        cur.transports[1].server_cpu_s *= 2.0;
        let c = cmp(pair(), cur.clone());
        assert_eq!(c.exit_code(), 0, "{}", c.markdown());
        assert_eq!(
            verdict_of(&c, "sse", "latency p50").verdict,
            RowVerdict::Info
        );
        // ...but --absolute sees it
        let c = compare_runs(
            &Run::Summary(pair()),
            &Run::Summary(cur),
            &th(),
            true,
            false,
        )
        .unwrap();
        assert_eq!(
            verdict_of(&c, "sse", "latency p50").verdict,
            RowVerdict::Regression
        );
        assert_eq!(
            verdict_of(&c, "sse", "server CPU per tick").verdict,
            RowVerdict::Regression
        );
        // the floor alone dropped 10× (noise on a busy machine): ratios jump, nothing fails
        let mut cur = pair();
        cur.floor_us.p50 /= 10.0;
        let c = cmp(pair(), cur);
        assert_eq!(c.exit_code(), 0, "{}", c.markdown());
        assert!(verdict_of(&c, "sse", "latency p50 / floor p50")
            .delta
            .contains("floor 20.0 → 2.0 µs"));
        // same floor, p99 quadrupled → within the tail's own +400 %; sextupled → regression
        let mut cur = pair();
        cur.transports[1].latency_us.p99 *= 4;
        let c = cmp(pair(), cur.clone());
        assert_eq!(
            verdict_of(&c, "sse", "latency p99 / floor p50").verdict,
            RowVerdict::Ok
        );
        cur.transports[1].latency_us.p99 = cur.transports[1].latency_us.p99 / 4 * 6;
        let c = cmp(pair(), cur);
        assert_eq!(
            verdict_of(&c, "sse", "latency p99 / floor p50").verdict,
            RowVerdict::Regression
        );
        // poll latency is schedule-bound: gated as measured, not divided by the floor
        let mut cur = pair();
        cur.floor_us.p50 /= 4.0;
        let c = cmp(pair(), cur);
        assert_eq!(
            verdict_of(&c, "poll", "latency p50 (schedule-bound)").verdict,
            RowVerdict::Ok
        );
        // ...and a doubled poll latency (say, the interval doubled by mistake) fails
        let mut base = pair();
        base.transports[0].latency_us.p50 = 500_000;
        let mut cur = base.clone();
        cur.transports[0].latency_us.p50 *= 2;
        let c = cmp(base, cur);
        assert_eq!(
            verdict_of(&c, "poll", "latency p50 (schedule-bound)").verdict,
            RowVerdict::Regression
        );
    }

    #[test]
    fn saturation_and_incomplete_warn_and_fail_under_strict() {
        let mut cur = pair();
        cur.complete = false;
        cur.transports[1].saturated = true;
        cur.transports[1].saturation_reasons = vec!["loadgen CPU 99 %".into()];
        let c = cmp(pair(), cur.clone());
        assert_eq!(c.exit_code(), 0);
        assert_eq!(c.warnings(), 2);
        assert!(c.markdown().contains("loadgen CPU 99 %"));
        let c = compare_runs(
            &Run::Summary(pair()),
            &Run::Summary(cur),
            &th(),
            false,
            true,
        )
        .unwrap();
        assert_eq!(c.exit_code(), 1);
        assert!(c.markdown().contains("**FAIL**"));
    }

    #[test]
    fn a_phase_that_delivered_nothing_is_a_regression() {
        let mut cur = pair();
        let p = &mut cur.transports[1];
        p.delivered = 0;
        p.requests = 0;
        p.bytes = 0;
        p.latency_us = Default::default();
        let c = cmp(pair(), cur);
        assert_eq!(c.exit_code(), 1, "{}", c.markdown());
        assert_eq!(
            verdict_of(&c, "sse", "delivered").verdict,
            RowVerdict::Regression
        );
        let mut cur = pair();
        cur.transports[1].delivered /= 3;
        let c = cmp(pair(), cur);
        assert_eq!(
            verdict_of(&c, "sse", "deliveries per second").verdict,
            RowVerdict::Warning
        );
    }

    #[test]
    fn differing_configuration_is_a_warning() {
        let mut base = pair();
        base.config = serde_json::json!({"clients": 100, "label": "a", "rate": 100.0});
        let mut cur = pair();
        cur.config = serde_json::json!({"clients": 200, "label": "b", "rate": 100.0});
        let c = cmp(base, cur);
        let row = verdict_of(&c, "(run)", "configuration");
        assert_eq!(row.verdict, RowVerdict::Warning);
        assert_eq!(row.delta, "runs configured differently: clients 100 → 200");
    }

    #[test]
    fn missing_and_new_phases() {
        let cur = summary(vec![phase("sse"), phase("stream")]);
        let c = cmp(pair(), cur);
        assert_eq!(
            verdict_of(&c, "poll", "present").verdict,
            RowVerdict::Warning
        );
        assert_eq!(
            verdict_of(&c, "stream", "present").verdict,
            RowVerdict::Info
        );
        let err = compare_runs(
            &Run::Summary(pair()),
            &Run::Summary(summary(vec![phase("iframe")])),
            &th(),
            false,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no common transport (baseline has: poll, sse; current has: iframe)"
        );
    }

    #[test]
    fn json_is_custom_smaller_is_better() {
        let c = cmp(pair(), pair());
        let v = c.json();
        let arr = v.as_array().unwrap();
        assert!(!arr.is_empty());
        for item in arr {
            let o = item.as_object().unwrap();
            assert!(o["name"].is_string() && o["unit"].is_string() && o["value"].is_number());
            for k in o.keys() {
                assert!(
                    ["name", "unit", "value", "range", "extra"].contains(&k.as_str()),
                    "{k}"
                );
            }
        }
        assert!(arr
            .iter()
            .any(|i| i["name"] == "sse - latency p99 / floor p50"));
        // info rows (not smaller-is-better gates) stay out
        assert!(!arr
            .iter()
            .any(|i| i["name"] == "sse - deliveries per second"));
    }

    fn opts() -> CompareOpts {
        CompareOpts {
            baseline: "a".into(),
            current: "b".into(),
            thresholds: None,
            format: Format::Md,
            absolute: false,
            strict: false,
            tol_requests_per_tick: None,
            tol_empty_pct: None,
            tol_bytes_per_tick: None,
            tol_latency: None,
            tol_latency_p99: None,
            tol_schedule_latency: None,
            tol_absolute: None,
            max_loss: None,
        }
    }

    #[test]
    fn thresholds_file_layers_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.toml");
        std::fs::write(
            &f,
            "empty_pct = 2\n\n[transport.poll]\nempty_pct = 8\nlatency = 0.5\n",
        )
        .unwrap();
        let o = CompareOpts {
            thresholds: Some(f.clone()),
            tol_latency: Some(3.0),
            ..opts()
        };
        let t = Thresholds::load(&o).unwrap();
        assert_eq!(t.for_key("sse", "sse").empty_pct, 2.0);
        assert_eq!(t.for_key("poll-c100", "poll").empty_pct, 8.0);
        assert_eq!(t.for_key("poll", "poll").latency, 3.0, "flags win");
        std::fs::write(&f, "empty_pct = 2\nlatncy = 1\n").unwrap();
        let e = Thresholds::load(&o).unwrap_err().to_string();
        assert!(e.contains("t.toml:2") && e.contains("latncy"), "{e}");
        std::fs::write(&f, "latency = -1\n").unwrap();
        assert!(Thresholds::load(&o).is_err());
    }

    #[test]
    fn example_thresholds_file_is_valid() {
        let o = CompareOpts {
            thresholds: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("thresholds.example.toml")),
            ..opts()
        };
        let t = Thresholds::load(&o).unwrap();
        assert_eq!(t.for_key("sse", "sse"), Tolerances::default());
        assert_eq!(t.for_key("piggyback", "piggyback").schedule_latency, 1.0);
    }

    #[test]
    fn load_errors_are_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.json");
        assert!(load_run(&missing)
            .unwrap_err()
            .to_string()
            .ends_with("no such file or folder"));
        assert!(load_run(dir.path())
            .unwrap_err()
            .to_string()
            .contains("neither summary.json"));
        let f = dir.path().join("summary.json");
        std::fs::write(&f, "{not json").unwrap();
        assert!(load_run(&f).unwrap_err().to_string().contains("not JSON"));
        let mut s = serde_json::to_value(pair()).unwrap();
        s["schema"] = 99.into();
        std::fs::write(&f, s.to_string()).unwrap();
        let e = load_run(dir.path()).unwrap_err().to_string();
        assert!(e.contains("schema 99"), "{e}");
        assert!(!e.contains('\n'));
        std::fs::write(&f, serde_json::to_string(&pair()).unwrap()).unwrap();
        assert!(matches!(load_run(dir.path()).unwrap(), Run::Summary(_)));
    }
}
