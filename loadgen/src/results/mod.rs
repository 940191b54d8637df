//! A run's results folder, `<out>/<UTC timestamp>-<label>/`:
//!
//! - `summary.json`: the [`tickbench_wire::Summary`] (provisional `complete: false` from the start);
//! - `<transport>.hgrm`: each phase's merged histogram as HdrHistogram percentile text ([`hgrm`]);
//! - `latency.hlog`: per-second histograms of every phase, an HdrHistogram interval log ([`hlog`]);
//! - `report.md` and `latency.svg`: the comparison for people ([`report`], [`svg`]; the browser
//!   phase's table is [`browser`]'s);
//!
//! and `<out>/latest`, a relative symlink to the newest folder. [`read()`] is the one reader of a
//! results folder's summary; [`table`] the comparison table every view renders.

pub mod browser;
pub mod hgrm;
pub mod hlog;
mod read;
pub mod report;
pub mod side_by_side;
pub mod summary;
pub mod svg;
pub mod table;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use tickbench_wire::{Summary, Transport};

use crate::error::Error;

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
    phases: Vec<(Transport, Histogram<u64>)>,
}

impl ResultsDir {
    /// Creates `<out>/<timestamp>-<label>/` (with a `-2`, `-3`… suffix if it exists) and the
    /// interval log, and points `<out>/latest` at it.
    pub fn create(out: &Path, label: &str, started: SystemTime) -> Result<ResultsDir, Error> {
        std::fs::create_dir_all(out).map_err(Error::write(out))?;
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
                Err(e) => return Err(Error::write(&dir)(e)),
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
    pub fn write_summary(&self, summary: &Summary) -> Result<(), Error> {
        write_summary(&self.dir.join("summary.json"), summary)
    }

    /// Appends one measured second of `transport` to `latency.hlog`.
    pub fn interval(
        &mut self,
        transport: Transport,
        at: SystemTime,
        length: Duration,
        h: &Histogram<u64>,
    ) -> Result<(), Error> {
        self.hlog.append(transport.name(), at, length, h)
    }

    /// A phase is over: writes `<transport>.hgrm` and keeps the histogram for the chart.
    pub fn phase_done(&mut self, transport: Transport, h: Histogram<u64>) -> Result<(), Error> {
        let path = self.dir.join(format!("{transport}.hgrm"));
        write_hgrm(&path, &h).map_err(Error::write(&path))?;
        self.hlog.flush()?;
        self.phases.push((transport, h));
        Ok(())
    }

    /// The run is over: the final `summary.json`, `report.md` and `latency.svg`.
    pub fn finish(&mut self, summary: &Summary) -> Result<(), Error> {
        self.hlog.flush()?;
        let curves: Vec<(Transport, &Histogram<u64>)> =
            self.phases.iter().map(|(t, h)| (*t, h)).collect();
        svg::write_svg(&self.dir.join("latency.svg"), &curves)?;
        let report = self.dir.join("report.md");
        std::fs::write(&report, render_report(summary)).map_err(Error::write(&report))?;
        // Last, so a summary saying `complete` implies every other file is there.
        self.write_summary(summary)
    }

    /// `<out>/latest` → `<folder name>` (relative, so the results tree can be moved), replaced
    /// atomically by renaming a fresh symlink over it.
    fn point_latest(&self, out: &Path) -> Result<(), Error> {
        // The folder was created as `out/<name>`: it has a name.
        let name = self.dir.file_name().unwrap_or_default();
        let latest = out.join("latest");
        let tmp = out.join(format!(".latest.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(name, &tmp).map_err(Error::write(&tmp))?;
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
        rd.interval(Transport::Poll, t, Duration::from_secs(1), &h)
            .unwrap();
        rd.phase_done(Transport::Poll, h).unwrap();
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
