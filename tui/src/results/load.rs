//! One saved run read from disk: its `summary.json` and a latency curve per transport.

use std::path::{Path, PathBuf};

use tickbench_loadgen::results;
use tickbench_wire::Summary;

use crate::error::Error;
use crate::results::curves::{hgrm_files, parse_hgrm, stem_names, summary_curve};
use crate::widgets::spectrum::Curve;

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
    /// Reads `path` (a results folder, `<out>/latest` or a `summary.json`) through the one
    /// summary reader, then the `.hgrm` files beside the summary. Any problem is one error line
    /// naming the file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let summary = results::read(path).map_err(|e| match e {
            // The usual cause: no run yet, or a folder that is not a results folder.
            e @ tickbench_loadgen::Error::ReadResults { .. } => Error::NoResults(e),
            e => Error::Loadgen(e),
        })?;
        let file = results::summary_file(path);
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let hgrms = hgrm_files(&dir);
        let curves = summary
            .transports
            .iter()
            .map(|t| {
                let from_file = hgrms
                    .iter()
                    .find(|(stem, _)| stem_names(stem, &t.name))
                    .and_then(|(_, p)| std::fs::read_to_string(p).ok())
                    // The curves are in µs; newer files are in ms (`hgrm_unit`).
                    .map(|s| {
                        let scale = summary.hgrm_unit.micros();
                        let mut pts = parse_hgrm(&s);
                        pts.iter_mut().for_each(|p| p.1 *= scale);
                        pts
                    })
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

    /// The curve of transport `name`, if the run has one.
    pub fn curve(&self, name: &str) -> Option<&Curve> {
        self.curves.iter().find(|c| c.name == name)
    }
}

/// Transport names across `runs`, in run order (A's first): the rows of a comparison.
pub fn transport_names(runs: &[LoadedRun]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for r in runs {
        for t in &r.summary.transports {
            if !v.contains(&t.name) {
                v.push(t.name.clone());
            }
        }
    }
    v
}
