//! The two sides of a comparison: a `summary.json` or a `sweep.json` (or a folder holding one) as
//! schema-checked, comparable phases. A summary is decoded by the load generator's one reader
//! ([`tickbench_loadgen::results::parse`]), like everywhere else.

use std::path::Path;

use tickbench_wire::{Floor, Summary, TransportSummary, SCHEMA_VERSION};

use tickbench_loadgen::results;
use tickbench_loadgen::Error as LoadgenError;

use super::error::BadInput;
use crate::record::{SweepRecord, SWEEP_KIND, SWEEP_SCHEMA};

/// A loaded input: one run, or one sweep.
#[derive(Debug, Clone)]
pub enum Run {
    Summary(Summary),
    Sweep(Box<SweepRecord>),
}

impl Run {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Run::Summary(_) => "summary.json (single run)",
            Run::Sweep(_) => "sweep.json (sweep)",
        }
    }

    pub(crate) fn complete(&self) -> bool {
        match self {
            Run::Summary(s) => s.complete,
            Run::Sweep(s) => s.complete,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Run::Summary(s) => format!("run `{}` of {}", s.label, s.started_at),
            Run::Sweep(s) => format!("sweep `{}` of {}", s.experiment.name, s.started_at),
        }
    }

    /// The comparable phases, by key.
    pub(crate) fn entries(&self) -> Vec<Entry> {
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

/// One comparable phase: a transport of a run, or the one phase of a sweep cell.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Transport name (summary.json) or cell id (sweep.json): what the two sides are matched by.
    pub key: String,
    pub phase: TransportSummary,
    /// The loopback floor measured in the same run, which push latency is divided by.
    pub floor: Floor,
    /// False for a sweep cell cut short.
    pub complete: bool,
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
        // The schema number is checked above, before decoding, so that a newer file whose fields
        // changed says "schema" rather than "not a summary"; the decoding is the one reader's.
        Some(_) => results::parse(&text, &file)
            .map(|mut s| {
                if let Some(dir) = file.parent() {
                    super::tail::attach(&mut s, dir);
                }
                Run::Summary(s)
            })
            .map_err(|e| match e {
                LoadgenError::Schema {
                    found, expected, ..
                } => BadInput::Schema {
                    path: shown.clone(),
                    found: found.into(),
                    expected,
                },
                LoadgenError::NotASummary { source, .. } => {
                    unreadable(format!("not a tickbench summary.json: {source}"))
                }
                other => unreadable(other.to_string()),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_support::{phase, summary};

    fn pair() -> Summary {
        summary(vec![phase("poll"), phase("sse")])
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
