//! [`Error`], what can stop a screen, one variant per cause a user can act on.
//!
//! Each message names only its own step; the cause is its `source()`, so the binary's `{:#}`
//! prints the whole chain once, and the ticker shows the same chain on screen through [`chain`].

/// Why a screen could not start or had to stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Raw mode or the alternate screen could not be entered.
    #[error("cannot initialise the terminal")]
    Terminal(#[source] std::io::Error),
    /// Drawing a frame failed (the terminal went away).
    #[error("cannot draw on the terminal")]
    Draw(#[source] std::io::Error),
    /// Reading keys failed.
    #[error("terminal input failed")]
    Input(#[source] std::io::Error),
    /// The terminal's input ended: nothing can stop the screen any more, so it stops.
    #[error("terminal input closed")]
    InputClosed,
    /// The async runtime or a thread could not be started.
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
    /// This executable could not be found to start the embedded server.
    #[error("cannot locate the tickbench executable")]
    Exe(#[source] std::io::Error),
    /// The `--log` file cannot be opened.
    #[error("cannot open the log file {}", path.display())]
    LogFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The server URL does not parse.
    #[error("invalid server URL '{url}': {reason}")]
    BadUrl { url: String, reason: String },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Http(#[source] reqwest::Error),
    /// The server did not answer.
    #[error("cannot reach {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status; `message` is its `{"error": ..}` text.
    #[error("{url} answered {status}: {message}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
        message: String,
    },
    /// The server's answer was not the JSON expected.
    #[error("bad answer from {url}")]
    BadAnswer {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// A `--symbols` entry the server does not list.
    #[error("unknown symbol '{symbol}' (the server lists {known} symbols; see GET /symbols)")]
    UnknownSymbol { symbol: String, known: usize },
    /// No results where `show` looked. (The load generator's message already names the file and
    /// the cause, so it is not repeated as a source.)
    #[error("{0} (run `tickbench run` first, or pass a results folder)")]
    NoResults(tickbench_loadgen::Error),
    /// `show` was given more runs than it can compare.
    #[error("show takes at most two runs (got {0})")]
    TooManyRuns(usize),
    /// Writing the plain report to stdout failed (a closed pipe among others).
    #[error("cannot write the report")]
    Write(#[source] std::io::Error),
    /// The load generator failed: the run itself, its signal handlers, starting the embedded
    /// server, reading results.
    #[error(transparent)]
    Loadgen(#[from] tickbench_loadgen::Error),
    /// The run's thread panicked before it returned.
    #[error("the run thread panicked")]
    RunPanicked,
}

/// `e` and every cause under it, `: `-separated: the one line a screen shows for an error.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_one_line_with_every_cause() {
        let e = Error::Terminal(std::io::Error::other("not a tty"));
        assert_eq!(chain(&e), "cannot initialise the terminal: not a tty");
        assert_eq!(
            chain(&Error::TooManyRuns(3)),
            "show takes at most two runs (got 3)"
        );
    }
}
