//! A run's results folder, `<out>/<UTC timestamp>-<label>/`:
//!
//! - `summary.json`: the [`tickbench_wire::Summary`] (provisional `complete: false` from the start);
//! - `<transport>.hgrm`: each phase's merged histogram as HdrHistogram percentile text ([`hgrm`]);
//! - `latency.hlog`: per-second histograms of every phase, an HdrHistogram interval log ([`hlog`]);
//! - `report.md` and `latency.svg`: the comparison for people ([`report`], [`svg`]);
//!
//! and `<out>/latest`, a relative symlink to the newest folder. [`read`] is the one reader of a
//! results folder's summary; [`table`] the comparison table every view renders.

pub mod hgrm;
pub mod hlog;
pub mod read;
pub mod report;
pub mod summary;
pub mod svg;
pub mod table;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use hdrhistogram::Histogram;
use tickbench_wire::Summary;

pub use hgrm::{hgrm_string, write_hgrm};
pub use read::{parse, read, summary_file};
pub use report::{render_chaos_table, render_report, render_slow_table, render_table, warnings};
pub use summary::{latency_summary, write_summary};

/// The results folder of the running run, and what must accumulate there as phases end.
#[derive(Debug)]
pub struct ResultsDir {
    dir: PathBuf,
    hlog: hlog::HlogWriter,
    /// Each finished phase's merged histogram, for the chart drawn at the end.
    phases: Vec<(String, Histogram<u64>)>,
}

impl ResultsDir {
    /// Creates `<out>/<timestamp>-<label>/` (with a `-2`, `-3`… suffix if it exists) and the
    /// interval log, and points `<out>/latest` at it.
    pub fn create(out: &Path, label: &str, started: SystemTime) -> anyhow::Result<ResultsDir> {
        std::fs::create_dir_all(out)
            .with_context(|| format!("creating results folder {}", out.display()))?;
        let stamp = chrono::DateTime::<chrono::Utc>::from(started).format("%Y%m%dT%H%M%SZ");
        let base = format!("{stamp}-{label}");
        let mut dir = out.join(&base);
        let mut n = 1;
        loop {
            match std::fs::create_dir(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => {
                    n += 1;
                    dir = out.join(format!("{base}-{n}"));
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("creating {}", dir.display()));
                }
            }
        }
        let hlog = hlog::HlogWriter::create(&dir.join("latency.hlog"), started)?;
        let rd = ResultsDir {
            dir,
            hlog,
            phases: Vec::new(),
        };
        rd.point_latest(out)?;
        Ok(rd)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes (or rewrites) `summary.json`.
    pub fn write_summary(&self, summary: &Summary) -> anyhow::Result<()> {
        write_summary(&self.dir.join("summary.json"), summary)
    }

    /// Appends one measured second of `transport` to `latency.hlog`.
    pub fn interval(
        &mut self,
        transport: &str,
        at: SystemTime,
        length: Duration,
        h: &Histogram<u64>,
    ) -> anyhow::Result<()> {
        self.hlog.append(transport, at, length, h)
    }

    /// A phase is over: writes `<transport>.hgrm` and keeps the histogram for the chart.
    pub fn phase_done(&mut self, transport: &str, h: Histogram<u64>) -> anyhow::Result<()> {
        let path = self.dir.join(format!("{transport}.hgrm"));
        write_hgrm(&path, &h).with_context(|| format!("writing {}", path.display()))?;
        self.hlog.flush()?;
        self.phases.push((transport.to_string(), h));
        Ok(())
    }

    /// The run is over: the final `summary.json`, `report.md` and `latency.svg`.
    pub fn finish(&mut self, summary: &Summary) -> anyhow::Result<()> {
        self.hlog.flush()?;
        let curves: Vec<(String, &Histogram<u64>)> =
            self.phases.iter().map(|(n, h)| (n.clone(), h)).collect();
        svg::write_svg(&self.dir.join("latency.svg"), &curves)?;
        std::fs::write(self.dir.join("report.md"), render_report(summary))
            .context("writing report.md")?;
        // Last, so a summary saying `complete` implies every other file is there.
        self.write_summary(summary)
    }

    /// `<out>/latest` → `<folder name>` (relative, so the results tree can be moved), replaced
    /// atomically by renaming a fresh symlink over it.
    fn point_latest(&self, out: &Path) -> anyhow::Result<()> {
        let name = self.dir.file_name().context("results folder has no name")?;
        let latest = out.join("latest");
        let tmp = out.join(format!(".latest.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(name, &tmp)
            .with_context(|| format!("creating symlink {}", tmp.display()))?;
        if let Err(e) = std::fs::rename(&tmp, &latest) {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!("could not point {} at the new run: {e}", latest.display());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_files_and_latest_link() {
        let out = tempfile::tempdir().unwrap();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut rd = ResultsDir::create(out.path(), "x", t).unwrap();
        let second = ResultsDir::create(out.path(), "x", t).unwrap();
        assert_ne!(rd.path(), second.path(), "same second, distinct folders");
        let newest = second.path().file_name().unwrap().to_owned();
        let mut s = summary::tests::sample_summary();
        let mut h = crate::stats::new_histogram();
        h.record(1234).unwrap();
        rd.interval("poll", t, Duration::from_secs(1), &h).unwrap();
        rd.phase_done("poll", h).unwrap();
        s.complete = true;
        rd.finish(&s).unwrap();
        for f in [
            "summary.json",
            "poll.hgrm",
            "latency.hlog",
            "report.md",
            "latency.svg",
        ] {
            assert!(rd.path().join(f).is_file(), "{f} missing");
        }
        assert_eq!(read(rd.path()).unwrap(), s);
        // `latest` is relative and follows the newest folder.
        let link = std::fs::read_link(out.path().join("latest")).unwrap();
        assert!(link.is_relative());
        assert_eq!(link.as_os_str(), newest);
        assert!(link.to_string_lossy().starts_with("20270115T"), "{link:?}");
    }
}
