//! Running a sweep: every cell in turn through a [`CellRunner`], `sweep.json` rewritten after each,
//! the report written over whatever ran.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tickbench_wire::SCHEMA_VERSION;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::progress::print_progress;
use super::runner::CellRunner;
use crate::error::Error;
use crate::experiment::Experiment;
use crate::record::{CellRecord, CellStatus, SweepRecord, SWEEP_KIND, SWEEP_SCHEMA};
use crate::report;
use crate::units::{fmt_eta, fmt_us};

/// Options of [`run_sweep`] that are not in the experiment.
#[derive(Debug, Clone, Default)]
pub struct SweepConfig {
    /// The experiment file's text, copied into the sweep folder.
    pub source: String,
    pub out: PathBuf,
    pub target: Option<String>,
    pub quick: bool,
}

/// A config writing under `out` with a one-line experiment source, for tests.
#[cfg(test)]
pub(crate) fn test_config(out: &Path) -> SweepConfig {
    SweepConfig {
        source: "# the file\n".into(),
        out: out.to_path_buf(),
        ..SweepConfig::default()
    }
}

/// What a finished (or stopped) sweep reports to its caller.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    pub dir: PathBuf,
    pub record: SweepRecord,
}

/// Runs every cell of `exp` with `runner` and writes the sweep folder under `cfg.out`.
pub fn run_sweep(
    exp: &Experiment,
    cfg: &SweepConfig,
    runner: &mut dyn CellRunner,
    cancel: CancellationToken,
) -> Result<SweepOutcome, Error> {
    let cells = exp.cells();
    let started = chrono::Utc::now();
    let dir = create_dir(
        &cfg.out,
        &format!("{}-{}", started.format("%Y%m%dT%H%M%SZ"), exp.name),
    )?;
    let cells_dir = dir.join("cells");
    std::fs::create_dir_all(&cells_dir)
        .map_err(Error::io(format!("creating {}", cells_dir.display())))?;
    if !cfg.source.is_empty() {
        std::fs::write(dir.join("experiment.toml"), &cfg.source)
            .map_err(Error::io("copying the experiment file"))?;
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
                .map_err(Error::io("starting the progress thread"))?
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
fn create_dir(out: &Path, name: &str) -> Result<PathBuf, Error> {
    std::fs::create_dir_all(out).map_err(Error::io(format!("creating {}", out.display())))?;
    let mut dir = out.join(name);
    let mut n = 1;
    loop {
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => {
                n += 1;
                dir = out.join(format!("{name}-{n}"));
            }
            Err(e) => return Err(Error::io(format!("creating {}", dir.display()))(e)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::test_support::fake_sweep;

    #[test]
    fn full_sweep_writes_every_file() {
        let tmp = tempfile::tempdir().unwrap();
        let o = fake_sweep(tmp.path(), None, None);
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
        let o = fake_sweep(tmp.path(), Some(1), None);
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
        let o = fake_sweep(tmp.path(), None, Some(0));
        assert!(!o.record.complete);
        assert_eq!(o.record.cells.len(), 4);
        assert_eq!(o.record.cells[0].status, CellStatus::Failed);
        assert_eq!(
            o.record.cells[0].error.as_deref(),
            Some("server would not start")
        );
    }
}
