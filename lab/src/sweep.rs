//! `tickbench sweep`: runs an experiment's cells one after another, each on a fresh embedded
//! server (or the `--target`), and writes the sweep folder:
//!
//! ```text
//! <out>/<UTC timestamp>-<experiment name>/
//!   experiment.toml        the file as given
//!   cells/<cell id>/       each cell's summary.json, <transport>.hgrm, latency.hlog, …
//!   sweep.json             every cell with its summary; complete:false if interrupted
//!   sweep.csv              one row per cell
//!   report.md, charts/     the claim, its verdict, a table, SVG charts
//! ```
//!
//! `sweep.json` is rewritten after every cell, so even a killed sweep leaves a record of what ran.
//! Ctrl-C (or SIGTERM) cancels the running cell, which writes its partial summary
//! (`complete:false`); the sweep then writes its report over what it has and exits non-zero. A
//! second Ctrl-C exits at once.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tickbench_loadgen::progress::{Progress, Stage};
use tickbench_loadgen::{RunOpts, Watch};
use tickbench_wire::{Summary, SCHEMA_VERSION};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::experiment::{Cell, Experiment};
use crate::record::{CellRecord, CellStatus, SweepRecord, SWEEP_KIND, SWEEP_SCHEMA};
use crate::report;
use crate::units::{fmt_dur, fmt_eta, fmt_us};

/// `tickbench sweep` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepOpts {
    /// Experiment file (TOML), e.g. experiments/polling-waste.toml.
    pub experiment: PathBuf,
    /// Measure this server (e.g. http://127.0.0.1:8080) instead of a fresh embedded server per
    /// cell. The experiment's `rate` axis cannot change a running server's tick rate.
    #[arg(long)]
    pub target: Option<String>,
    /// Folder the sweep folder is created under.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Smoke run: every cell measures 2 s after a 0.5 s ramp and warm-up; the matrix is unchanged.
    #[arg(long)]
    pub quick: bool,
    /// Print the cells and the expected duration; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Load-generator worker threads per cell (default: one per CPU).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Treat EXPERIMENT as an existing sweep folder and rewrite its report.md, charts, sweep.csv
    /// and verdict from its sweep.json (nothing is measured).
    #[arg(long, conflicts_with_all = ["quick", "dry_run", "target"])]
    pub rebuild: bool,
    /// Binary to start the embedded servers from (default: this executable). For tests.
    #[arg(long, hide = true)]
    pub server_bin: Option<PathBuf>,
}

/// Runs one cell. The real one drives the load generator; tests substitute their own.
pub trait CellRunner {
    /// Measures `cell`, writing its results folder under `out`; returns the summary and that
    /// folder. Must return promptly (with a `complete: false` summary or an error) once `cancel`
    /// fires.
    fn run(
        &mut self,
        exp: &Experiment,
        cell: &Cell,
        out: &Path,
        progress: mpsc::Sender<Progress>,
        cancel: CancellationToken,
    ) -> anyhow::Result<(Summary, PathBuf)>;
}

/// The load generator as a [`CellRunner`].
#[derive(Debug, Clone, Default)]
pub struct LoadgenRunner {
    pub target: Option<String>,
    pub workers: Option<usize>,
    pub server_bin: Option<PathBuf>,
}

impl CellRunner for LoadgenRunner {
    fn run(
        &mut self,
        exp: &Experiment,
        cell: &Cell,
        out: &Path,
        progress: mpsc::Sender<Progress>,
        cancel: CancellationToken,
    ) -> anyhow::Result<(Summary, PathBuf)> {
        let mut o = RunOpts {
            target: self.target.clone(),
            transports: vec![cell.transport],
            duration: exp.duration.0,
            warmup: exp.warmup.0,
            ramp: exp.ramp.0,
            seed: cell.seed,
            label: cell.id.clone(),
            out: out.to_path_buf(),
            no_tui: true,
            server_bin: self.server_bin.clone(),
            ..RunOpts::default()
        };
        if let Some(c) = cell.clients {
            o.clients = c;
        }
        if let Some(r) = cell.rate {
            o.rate = r;
        }
        if let Some(i) = cell.poll_interval {
            o.poll_interval = i;
        }
        if let Some(a) = cell.action_rate {
            o.action_rate = a;
        }
        if let Some(t) = exp.longpoll_timeout {
            o.longpoll_timeout = t.0;
        }
        if let Some(w) = exp.watch {
            o.watch = Watch::Count(w.0 as usize);
        }
        if let Some(w) = self.workers {
            o.workers = w;
        }
        tickbench_loadgen::run_with_progress(o, Some(progress), cancel)
    }
}

/// Options of [`run_sweep`] that are not in the experiment.
#[derive(Debug, Clone, Default)]
pub struct SweepConfig {
    /// The experiment file's text, copied into the sweep folder.
    pub source: String,
    pub out: PathBuf,
    pub target: Option<String>,
    pub quick: bool,
}

/// What a finished (or stopped) sweep reports to its caller.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    pub dir: PathBuf,
    pub record: SweepRecord,
}

/// `tickbench sweep`.
pub fn sweep(opts: SweepOpts) -> anyhow::Result<()> {
    if opts.rebuild {
        return rebuild(&opts.experiment);
    }
    let mut exp = Experiment::load(&opts.experiment)?;
    let source = std::fs::read_to_string(&opts.experiment).unwrap_or_default();
    if opts.quick {
        exp.quicken();
    }
    if opts.target.is_some() && !exp.rate.is_empty() {
        eprintln!(
            "tickbench sweep: warning: with --target the server's own tick rate applies; the \
             experiment's rate axis only labels the cells"
        );
    }
    let cells = exp.cells();
    if opts.dry_run {
        print!("{}", plan(&exp, &cells));
        return Ok(());
    }
    let cancel = CancellationToken::new();
    cancel_on_signals(cancel.clone())?;
    let mut runner = LoadgenRunner {
        target: opts.target.clone(),
        workers: opts.workers,
        server_bin: opts.server_bin.clone(),
    };
    let cfg = SweepConfig {
        source,
        out: opts.out.clone(),
        target: opts.target.clone(),
        quick: opts.quick,
    };
    let outcome = run_sweep(&exp, &cfg, &mut runner, cancel)?;
    let r = &outcome.record;
    let done = r
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Done)
        .count();
    let verdict = r
        .verdict
        .as_ref()
        .map(|v| format!("; the claim {}", v.outcome.as_str()))
        .unwrap_or_default();
    eprintln!(
        "sweep {}: {done}/{} cells done{verdict}; report: {}",
        exp.name,
        r.cells_planned,
        outcome.dir.join("report.md").display()
    );
    println!("{}", outcome.dir.display());
    if r.interrupted {
        anyhow::bail!(
            "interrupted after {done} of {} cells; partial results in {}",
            r.cells_planned,
            outcome.dir.display()
        );
    }
    let failed = r
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Failed)
        .count();
    if failed > 0 {
        let first = r
            .cells
            .iter()
            .find_map(|c| c.error.clone())
            .unwrap_or_default();
        anyhow::bail!(
            "{failed} of {} cells failed (first: {first}); results in {}",
            r.cells_planned,
            outcome.dir.display()
        );
    }
    Ok(())
}

/// `--rebuild`: the report of an existing sweep folder, recomputed from its sweep.json.
pub fn rebuild(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("sweep.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut record: SweepRecord = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a tickbench sweep.json", path.display()))?;
    anyhow::ensure!(
        record.kind == SWEEP_KIND && record.schema == SWEEP_SCHEMA,
        "{}: not a schema {SWEEP_SCHEMA} tickbench sweep.json",
        path.display()
    );
    report::write_all(&mut record, dir)?;
    eprintln!("rewrote {}", dir.join("report.md").display());
    Ok(())
}

/// The `--dry-run` listing.
pub fn plan(exp: &Experiment, cells: &[Cell]) -> String {
    let mut s = format!(
        "experiment {}: {} cells × (ramp {} + warm-up {} + measured {}) ≈ {} plus server start-up\n",
        exp.name,
        cells.len(),
        fmt_dur(exp.ramp.0),
        fmt_dur(exp.warmup.0),
        fmt_dur(exp.duration.0),
        fmt_eta(exp.cell_time() * cells.len() as u32)
    );
    for c in cells {
        s.push_str(&format!(
            "  {:>3}  {:<28} {}\n",
            c.index + 1,
            c.id,
            c.describe()
        ));
    }
    s
}

/// Cancels on Ctrl-C or SIGTERM; a second Ctrl-C exits at once (130) for a sweep that hangs.
fn cancel_on_signals(cancel: CancellationToken) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the signal runtime")?;
    std::thread::Builder::new()
        .name("sweep-signals".into())
        .spawn(move || {
            rt.block_on(async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                let term_recv = async {
                    match term.as_mut() {
                        Some(t) => {
                            t.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term_recv => {}
                }
                eprintln!(
                    "\ntickbench sweep: stopping; writing partial results (Ctrl-C again to quit now)"
                );
                cancel.cancel();
                let _ = tokio::signal::ctrl_c().await;
                std::process::exit(130);
            })
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// Runs every cell of `exp` with `runner` and writes the sweep folder under `cfg.out`.
pub fn run_sweep(
    exp: &Experiment,
    cfg: &SweepConfig,
    runner: &mut dyn CellRunner,
    cancel: CancellationToken,
) -> anyhow::Result<SweepOutcome> {
    let cells = exp.cells();
    let started = chrono::Utc::now();
    let dir = create_dir(
        &cfg.out,
        &format!("{}-{}", started.format("%Y%m%dT%H%M%SZ"), exp.name),
    )?;
    let cells_dir = dir.join("cells");
    std::fs::create_dir_all(&cells_dir)
        .with_context(|| format!("creating {}", cells_dir.display()))?;
    if !cfg.source.is_empty() {
        std::fs::write(dir.join("experiment.toml"), &cfg.source)
            .context("copying the experiment file")?;
    }
    let mut record = SweepRecord {
        kind: SWEEP_KIND.into(),
        schema: SWEEP_SCHEMA,
        summary_schema: SCHEMA_VERSION,
        tickbench_version: env!("CARGO_PKG_VERSION").into(),
        experiment: exp.clone(),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        finished_at: None,
        complete: false,
        interrupted: false,
        target: cfg.target.clone(),
        quick: cfg.quick,
        cells_planned: cells.len(),
        cells: Vec::new(),
        verdict: None,
    };
    report::write_json(&record, &dir)?;

    let sweep_start = Instant::now();
    let nominal = exp.cell_time();
    // Server start-up and floor measurement per cell: learned from the cells that ran.
    let mut overhead = Duration::from_secs(2);
    let tty = std::io::stderr().is_terminal();
    for cell in &cells {
        if cancel.is_cancelled() {
            break;
        }
        let remaining_after = (nominal + overhead) * (cells.len() - cell.index - 1) as u32;
        eprintln!(
            "[{}/{}] {} — sweep ETA {}",
            cell.index + 1,
            cells.len(),
            cell.describe(),
            fmt_eta(nominal + overhead + remaining_after)
        );
        let (tx, rx) = mpsc::channel(64);
        let printer = {
            let id = cell.id.clone();
            std::thread::Builder::new()
                .name("sweep-progress".into())
                .spawn(move || print_progress(rx, &id, remaining_after + overhead, tty))
                .context("starting the progress thread")?
        };
        let t0 = Instant::now();
        let result = runner.run(exp, cell, &cells_dir, tx, cancel.clone());
        let _ = printer.join();
        let elapsed = t0.elapsed();
        let mut rec = CellRecord {
            cell: cell.clone(),
            status: CellStatus::Done,
            error: None,
            dir: None,
            elapsed_s: elapsed.as_secs_f64(),
            summary: None,
        };
        match result {
            Ok((summary, run_dir)) => {
                let final_dir = settle_cell_dir(&cells_dir, &run_dir, &cell.id);
                rec.dir = final_dir
                    .strip_prefix(&dir)
                    .ok()
                    .map(|p| p.display().to_string());
                if cancel.is_cancelled() && !summary.complete {
                    rec.status = CellStatus::Interrupted;
                }
                if let Some(p) = summary.transports.first() {
                    eprintln!(
                        "      {}: p50 {} p99 {}, {:.3} req/tick, {:.1} % empty, loss {}{}",
                        cell.id,
                        fmt_us(p.latency_us.p50 as f64),
                        fmt_us(p.latency_us.p99 as f64),
                        p.requests_per_tick(),
                        p.empty_pct(),
                        p.loss(),
                        if p.saturated { ", SATURATED" } else { "" }
                    );
                }
                rec.summary = Some(summary);
                // Learn the per-cell overhead (mean over cells so far) for the ETA.
                let measured = elapsed.saturating_sub(nominal);
                let n = record.cells.len() as u32 + 1;
                overhead = (overhead * (n - 1) + measured) / n;
            }
            Err(e) => {
                rec.status = if cancel.is_cancelled() {
                    CellStatus::Interrupted
                } else {
                    CellStatus::Failed
                };
                rec.error = Some(format!("{e:#}"));
                eprintln!("      {}: {} — {e:#}", cell.id, status_word(rec.status));
            }
        }
        record.cells.push(rec);
        report::write_json(&record, &dir)?;
    }
    record.interrupted = cancel.is_cancelled();
    record.finished_at =
        Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    record.complete = !record.interrupted
        && record.cells.len() == record.cells_planned
        && record.cells.iter().all(|c| {
            c.status == CellStatus::Done && c.summary.as_ref().is_some_and(|s| s.complete)
        });
    report::write_all(&mut record, &dir)?;
    tracing::info!("sweep {} took {}", exp.name, fmt_eta(sweep_start.elapsed()));
    Ok(SweepOutcome { dir, record })
}

fn status_word(s: CellStatus) -> &'static str {
    match s {
        CellStatus::Done => "done",
        CellStatus::Interrupted => "interrupted",
        CellStatus::Failed => "FAILED",
    }
}

/// Creates `<out>/<name>` (with `-2`, `-3`… if taken).
fn create_dir(out: &Path, name: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut dir = out.join(name);
    let mut n = 1;
    loop {
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => {
                n += 1;
                dir = out.join(format!("{name}-{n}"));
            }
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
}

/// The load generator names a run folder `<timestamp>-<label>` and points `<out>/latest` at it;
/// inside a sweep the cell id alone is the better name, and `latest` means nothing. Renames when
/// it can and keeps the original name when it cannot.
fn settle_cell_dir(cells_dir: &Path, run_dir: &Path, id: &str) -> PathBuf {
    let latest = cells_dir.join("latest");
    if latest.is_symlink() {
        let _ = std::fs::remove_file(&latest);
    }
    let target = cells_dir.join(id);
    if run_dir.parent() == Some(cells_dir)
        && !target.exists()
        && std::fs::rename(run_dir, &target).is_ok()
    {
        return target;
    }
    run_dir.to_path_buf()
}

/// Prints one cell's progress on stderr until the run drops its sender: a line rewritten in place
/// on a terminal, one line every 5 s otherwise (logs stay short).
fn print_progress(mut rx: mpsc::Receiver<Progress>, id: &str, after: Duration, tty: bool) {
    let mut err = std::io::stderr();
    let mut last_printed = None::<Instant>;
    let mut dirty = false;
    while let Some(event) = rx.blocking_recv() {
        let Progress::Second(s) = event else {
            continue;
        };
        let stage = match s.stage {
            Stage::Ramp => "ramp",
            Stage::Warmup => "warm-up",
            Stage::Measure => "measure",
        };
        let p50 = if s.interval.is_empty() {
            "–".to_string()
        } else {
            fmt_us(s.interval.value_at_quantile(0.5) as f64)
        };
        let eta = s.run_total.saturating_sub(s.run_elapsed) + after;
        let line = format!(
            "      {id}: {stage} {}/{} | {}/{} clients | p50 {p50} | {} deliveries/s{} | sweep ETA {}",
            s.run_elapsed.as_secs(),
            s.run_total.as_secs(),
            s.clients_connected,
            s.clients_target,
            s.delivered,
            if s.saturated { " | SATURATED" } else { "" },
            fmt_eta(eta)
        );
        if tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            dirty = true;
        } else if last_printed.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
            let _ = writeln!(err, "{line}");
            last_printed = Some(Instant::now());
        }
    }
    if dirty {
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_support::{phase, summary};

    /// Writes a summary like the load generator would; cancels the token at cell `cancel_at`.
    struct Fake {
        calls: usize,
        cancel_at: Option<usize>,
        fail_at: Option<usize>,
    }

    impl CellRunner for Fake {
        fn run(
            &mut self,
            _exp: &Experiment,
            cell: &Cell,
            out: &Path,
            _progress: mpsc::Sender<Progress>,
            cancel: CancellationToken,
        ) -> anyhow::Result<(Summary, PathBuf)> {
            let n = self.calls;
            self.calls += 1;
            if self.fail_at == Some(n) {
                anyhow::bail!("server would not start");
            }
            let dir = out.join(format!("20260101T000000Z-{}", cell.id));
            std::fs::create_dir_all(&dir)?;
            let mut s = summary(vec![phase(cell.transport.name())]);
            if self.cancel_at == Some(n) {
                cancel.cancel();
                s.complete = false;
            }
            std::fs::write(dir.join("summary.json"), serde_json::to_string(&s)?)?;
            Ok((s, dir))
        }
    }

    fn exp() -> Experiment {
        Experiment::parse(
            "name = \"tiny\"\nclaim = \"c\"\ntransports = [\"sse\", \"poll\"]\nclients = [10, 20]\nduration = \"1s\"\n",
            "tiny.toml",
        )
        .unwrap()
    }

    fn cfg(out: &Path) -> SweepConfig {
        SweepConfig {
            source: "# the file\n".into(),
            out: out.to_path_buf(),
            ..SweepConfig::default()
        }
    }

    #[test]
    fn full_sweep_writes_every_file() {
        let tmp = tempfile::tempdir().unwrap();
        let mut fake = Fake {
            calls: 0,
            cancel_at: None,
            fail_at: None,
        };
        let o = run_sweep(
            &exp(),
            &cfg(tmp.path()),
            &mut fake,
            CancellationToken::new(),
        )
        .unwrap();
        assert!(o.record.complete);
        assert_eq!(o.record.cells.len(), 4);
        for f in ["experiment.toml", "sweep.json", "sweep.csv", "report.md"] {
            assert!(o.dir.join(f).is_file(), "{f}");
        }
        assert!(o.dir.join("cells/sse-c10/summary.json").is_file());
        assert_eq!(o.record.cells[0].dir.as_deref(), Some("cells/sse-c10"));
        assert!(o.dir.join("charts/latency_vs_clients.svg").is_file());
    }

    #[test]
    fn interrupted_sweep_keeps_partial_results() {
        let tmp = tempfile::tempdir().unwrap();
        let mut fake = Fake {
            calls: 0,
            cancel_at: Some(1),
            fail_at: None,
        };
        let o = run_sweep(
            &exp(),
            &cfg(tmp.path()),
            &mut fake,
            CancellationToken::new(),
        )
        .unwrap();
        let r = &o.record;
        assert!(!r.complete && r.interrupted);
        assert_eq!(r.cells.len(), 2, "stops after the cancelled cell");
        assert_eq!(r.cells[0].status, CellStatus::Done);
        assert_eq!(r.cells[1].status, CellStatus::Interrupted);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(o.dir.join("sweep.json")).unwrap())
                .unwrap();
        assert_eq!(json["complete"], false);
        assert_eq!(json["cells_planned"], 4);
        assert_eq!(json["cells"][1]["status"], "interrupted");
        let md = std::fs::read_to_string(o.dir.join("report.md")).unwrap();
        assert!(md.contains("INCOMPLETE"));
    }

    #[test]
    fn a_failed_cell_is_recorded_and_the_sweep_goes_on() {
        let tmp = tempfile::tempdir().unwrap();
        let mut fake = Fake {
            calls: 0,
            cancel_at: None,
            fail_at: Some(0),
        };
        let o = run_sweep(
            &exp(),
            &cfg(tmp.path()),
            &mut fake,
            CancellationToken::new(),
        )
        .unwrap();
        assert!(!o.record.complete);
        assert_eq!(o.record.cells.len(), 4);
        assert_eq!(o.record.cells[0].status, CellStatus::Failed);
        assert_eq!(
            o.record.cells[0].error.as_deref(),
            Some("server would not start")
        );
    }

    #[test]
    fn rebuild_rewrites_the_report_from_sweep_json() {
        let tmp = tempfile::tempdir().unwrap();
        let mut fake = Fake {
            calls: 0,
            cancel_at: None,
            fail_at: None,
        };
        let o = run_sweep(
            &exp(),
            &cfg(tmp.path()),
            &mut fake,
            CancellationToken::new(),
        )
        .unwrap();
        std::fs::remove_file(o.dir.join("report.md")).unwrap();
        rebuild(&o.dir).unwrap();
        assert!(o.dir.join("report.md").is_file());
        assert!(rebuild(tmp.path()).is_err());
    }

    #[test]
    fn plan_lists_cells() {
        let e = exp();
        let p = plan(&e, &e.cells());
        assert!(p.contains("4 cells"));
        assert!(p.contains("poll-c20"));
        assert_eq!(fmt_eta(Duration::from_secs(250)), "4m 10s");
    }
}
