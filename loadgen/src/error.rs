//! [`Error`], what can go wrong in the load generator, one variant per cause a user can act on.
//!
//! Library code returns these; only the `tickbench` binary turns them into a line on stderr (with
//! `anyhow`), so a caller such as the TUI or the lab can match on the cause instead of parsing text.

use std::path::PathBuf;

/// Why a run, a results read or the embedded server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A results file (`summary.json`, ...) could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadResults {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON in the shape of a [`tickbench_wire::Summary`].
    #[error("{} is not a tickbench summary: {source}", path.display())]
    NotASummary {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A summary written by a tickbench with another schema version.
    #[error("{} has schema {found} but this tickbench reads schema {expected}", path.display())]
    Schema {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// Writing a results file (or creating its folder or the `latest` link) failed.
    #[error("writing {}: {source}", path.display())]
    WriteResults {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A results file could not be encoded (JSON, SVG).
    #[error("encoding {}: {message}", path.display())]
    Encode { path: PathBuf, message: String },
    /// The embedded server's executable could not be started.
    #[error("starting the embedded server ({}): {source}", exe.display())]
    ServerStart {
        exe: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The embedded server exited before it printed its address (or while it was needed).
    #[error(
        "the embedded server exited before listening ({status}){}",
        tail(stderr)
    )]
    ServerExited {
        /// Its exit status, as the OS reports it.
        status: String,
        /// The last line it wrote on stderr, when its stderr was captured.
        stderr: String,
    },
    /// The embedded server printed nothing within its start timeout.
    #[error("the embedded server did not report its address within {secs}s")]
    ServerSilent { secs: u64 },
    /// The child's first line was not `listening on http://ADDR`: not a tickbench server.
    #[error("unexpected first line from the embedded server: {0:?}")]
    ServerLine(String),
}

/// `": <line>"` when there is a captured stderr line to show, else nothing.
fn tail(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}
