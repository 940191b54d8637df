//! [`Error`]: why a sweep could not run, finish or be rebuilt, one variant per cause a user can
//! act on.
//!
//! Each message says what failed; the cause (an I/O or JSON error) is its `source()`, so the
//! binary's one-line `{:#}` rendering reads "writing sweep.json: No space left on device".
//! `compare` has its own [`BadInput`](crate::compare::BadInput): it answers with an exit code, not
//! an error.

use std::path::PathBuf;

use crate::experiment::ExperimentError;
use crate::record::SWEEP_SCHEMA;

/// What went wrong in the lab.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The experiment file is unreadable or invalid; the message names file, line and field.
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    /// Reading or writing a file of the sweep folder, or starting a helper thread.
    #[error("{what}")]
    Io {
        /// What was being done: `writing sweep.json`, `creating results/x`...
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// `sweep.json` could not be encoded, or a file given as one is not JSON of that shape.
    #[error("{what}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// `--rebuild` was pointed at a file of another kind or schema.
    #[error("{}: not a schema {SWEEP_SCHEMA} tickbench sweep.json", path.display())]
    NotASweep { path: PathBuf },
    /// A chart could not be drawn (the report goes on without it).
    #[error("drawing {}: {message}", path.display())]
    Chart { path: PathBuf, message: String },
    /// Ctrl-C or SIGTERM stopped the sweep; what ran is in the folder.
    #[error("interrupted after {done} of {planned} cells; partial results in {}", dir.display())]
    Interrupted {
        done: usize,
        planned: usize,
        dir: PathBuf,
    },
    /// Some cells returned an error; the others ran and are in the report.
    #[error("{failed} of {planned} cells failed (first: {first}); results in {}", dir.display())]
    CellsFailed {
        failed: usize,
        planned: usize,
        /// The first failed cell's error.
        first: String,
        dir: PathBuf,
    },
}

impl Error {
    /// An [`Error::Io`] for `what` (used as `.map_err(Error::io("writing x"))`).
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}
