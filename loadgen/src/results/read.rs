//! The one reader of `summary.json`: `tickbench show`, `tickbench compare`, the TUI and the end of
//! `tickbench run` all go through [`read`], so a results folder means the same thing everywhere
//! and a bad file fails with the same [`Error`].

use std::path::{Path, PathBuf};

use tickbench_wire::{Summary, SCHEMA_VERSION};

use crate::error::Error;

/// Where [`read`] looks for the summary of `path`: `path` itself when it is a file or names a
/// `.json` file, else `path/summary.json` (a results folder, or the `latest` symlink to one).
///
/// The folder holding the summary, for the `.hgrm` files beside it, is this path's parent.
pub fn summary_file(path: &Path) -> PathBuf {
    let is_json = path.extension().is_some_and(|e| e == "json");
    if path.is_file() || (is_json && !path.is_dir()) {
        path.to_path_buf()
    } else {
        path.join("summary.json")
    }
}

/// Reads the run at `path` (a results folder, `<out>/latest` or a `summary.json`), checking that it
/// is a tickbench summary of the schema this build reads.
///
/// ```no_run
/// let summary = tickbench_loadgen::results::read("results/latest".as_ref())?;
/// println!("{} phases", summary.transports.len());
/// # Ok::<(), tickbench_loadgen::Error>(())
/// ```
pub fn read(path: &Path) -> Result<Summary, Error> {
    let file = summary_file(path);
    let text = std::fs::read_to_string(&file).map_err(|source| Error::ReadResults {
        path: file.clone(),
        source,
    })?;
    parse(&text, &file)
}

/// Parses the text of a `summary.json` read from `path` (named in errors) and checks its schema;
/// for callers that read the file themselves (the lab tells summaries from sweeps first).
pub fn parse(text: &str, path: &Path) -> Result<Summary, Error> {
    let summary: Summary = serde_json::from_str(text).map_err(|source| Error::NotASummary {
        path: path.to_path_buf(),
        source,
    })?;
    if summary.schema != SCHEMA_VERSION {
        return Err(Error::Schema {
            path: path.to_path_buf(),
            found: summary.schema,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::summary::tests::sample_summary;
    use crate::results::summary::write_summary;

    #[test]
    fn summary_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = sample_summary();
        write_summary(&dir.path().join("summary.json"), &s).unwrap();
        assert_eq!(read(dir.path()).unwrap(), s);
        assert_eq!(read(&dir.path().join("summary.json")).unwrap(), s);
        assert!(!dir.path().join("summary.tmp").exists());
        let l = s.transports[0].latency_us;
        assert!(l.min <= l.p50 && l.p50 <= l.p99 && l.p99 <= l.max);
    }

    #[test]
    fn other_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary.json");
        std::fs::write(&p, "{}").unwrap();
        let e = read(&p).unwrap_err();
        assert!(format!("{e:#}").contains("not a tickbench summary"));
    }

    #[test]
    fn a_missing_folder_names_the_summary_it_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(e, Error::ReadResults { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("cannot read") && msg.contains("nope/summary.json"),
            "{msg}"
        );
        let mut s = sample_summary();
        s.schema = SCHEMA_VERSION + 1;
        let e = parse(&serde_json::to_string(&s).unwrap(), Path::new("x.json")).unwrap_err();
        assert!(matches!(e, Error::Schema { found, .. } if found == SCHEMA_VERSION + 1));
    }
}
