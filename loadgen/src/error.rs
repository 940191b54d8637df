//! [`Error`], what can go wrong in the load generator, one variant per cause a user can act on.
//!
//! Library code returns these; only the `tickbench` binary turns them into a line on stderr (with
//! `anyhow`), so a caller such as the TUI or the lab can match on the cause instead of parsing text.

use std::path::PathBuf;

/// Why a run, a results read or the embedded server failed. A variant with a `source` does not
/// repeat it in its message: print the chain (`{:#}` through `anyhow`, or walk
/// [`std::error::Error::source`]) to see the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `tickbench run` option (or combination) that cannot work, e.g. `--clients 0`.
    #[error("{0}")]
    Options(String),
    /// The clients would not fit under the open-file limit (`ulimit -n`).
    #[error("--clients {clients} needs about {needed} open files{} but this process may open at most {limit} (ulimit -n); the largest safe --clients is {safe}", per_client_note(*per_client))]
    FileLimit {
        clients: u64,
        /// Descriptors one client costs in this process (3 through the chaos proxy).
        per_client: u64,
        needed: u64,
        limit: u64,
        safe: u64,
    },
    /// `--target` is not an `http://host:port` URL (or does not resolve).
    #[error("--target {target} {reason}")]
    BadTarget {
        target: String,
        /// What is wrong with it, e.g. "is not an http:// URL".
        reason: String,
    },
    /// Nothing answers at the target.
    #[error("cannot reach {target}: {cause}")]
    TargetUnreachable {
        target: String,
        /// The root cause ("Connection refused"): reqwest's own message is generic.
        cause: String,
    },
    /// Something answers at the target, but not with a tickbench symbol list.
    #[error(
        "{target} is not a tickbench server (GET /symbols answered {status} without a symbol list)"
    )]
    NotTickbench { target: String, status: String },
    /// The embedded server died during a phase: every later figure would be an error count.
    #[error("the embedded server (pid {pid}) exited during the {transport} phase")]
    ServerDied { pid: u32, transport: String },
    /// `--browser`: the browser phase could not be run (no chromium, the page failed, …).
    #[error("browser phase: {0}")]
    Browser(String),
    /// A load generator worker thread stopped (it panicked): the run cannot be completed.
    #[error("a load generator worker thread stopped unexpectedly")]
    WorkerStopped,
    /// The operating system refused a thread, runtime, socket or limit the run needs.
    #[error("{what}")]
    Os {
        /// What was being done, e.g. "building a worker runtime".
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A results file (`summary.json`, ...) could not be read.
    #[error("cannot read {}", path.display())]
    ReadResults {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON in the shape of a [`tickbench_wire::Summary`].
    #[error("{} is not a tickbench summary", path.display())]
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
    #[error("writing {}", path.display())]
    WriteResults {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A results file could not be encoded (JSON, SVG).
    #[error("encoding {}: {message}", path.display())]
    Encode { path: PathBuf, message: String },
    /// The embedded server's executable could not be started.
    #[error("starting the embedded server ({})", exe.display())]
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
    /// A peer server (nginx + Nchan, Pushpin) could not be installed, started or reached.
    #[error("{0}")]
    Peer(String),
}

/// Why a chaos run costs more descriptors per client, when it does.
fn per_client_note(per_client: u64) -> String {
    if per_client > 1 {
        format!(" ({per_client} per client: the chaos proxy holds two more sockets per client)")
    } else {
        String::new()
    }
}

impl Error {
    /// An [`Error::Os`] for `what`, as a `map_err` argument: `.map_err(Error::os("binding"))`.
    pub(crate) fn os(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Os { what, source }
    }

    /// An [`Error::WriteResults`] for `path`, as a `map_err` argument.
    pub(crate) fn write(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::WriteResults { path, source }
    }
}

/// `": <line>"` when there is a captured stderr line to show, else nothing.
fn tail(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}
