//! [`Error`], what can go wrong driving the browser, one variant per cause a user can act on.

use std::path::PathBuf;

/// Why a browser measurement failed. The binary prints it as one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No chromium, and installing it was impossible here.
    #[error("chromium is not installed and could not be installed here ({reason}); install it with `sudo apt-get install -y chromium` (tests: or set TICKBENCH_SKIP_BROWSER=1 to skip them)")]
    NoChromium { reason: String },
    /// Chromium started but did not speak the DevTools protocol (or died).
    #[error("chromium ({exe}) {what}{}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Chromium {
        exe: PathBuf,
        what: String,
        /// Chromium's last stderr line, if any.
        stderr: String,
    },
    /// A DevTools command failed or timed out.
    #[error("DevTools {method}: {message}")]
    Cdp { method: String, message: String },
    /// The page did something unexpected (never became ready, threw, a bad stats object).
    #[error("the page {0}")]
    Page(String),
    /// A `tickbench browser` option that cannot work.
    #[error("{0}")]
    Options(String),
    /// The embedded server, the results folder, or another part of the load generator.
    #[error(transparent)]
    Loadgen(#[from] tickbench_loadgen::Error),
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
