//! Input `compare` cannot judge: each is one line on stderr and exit code 2.

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
    #[error("the runs speak different protocols, so their figures measure different things: {0}; compare runs made with the same --http2, --tls and --tabs-per-conn")]
    ProtocolMismatch(String),
    #[error("thresholds {path}: {message}")]
    Thresholds { path: String, message: String },
    #[error("--{0} must be a finite number >= 0")]
    BadFlag(&'static str),
}
