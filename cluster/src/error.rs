//! [`Error`]: why a cluster command (the feed, the broker launcher, `cluster up/down`) could not
//! start or go on.

use std::io;

/// A failure of a cluster process, with what to do about it where there is something.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// nats-server could not be installed or started (the message says how to install it).
    #[error("{0}")]
    Broker(String),
    /// NATS is unreachable or its stream cannot be used.
    #[error(transparent)]
    Nats(#[from] tickbench_server::feed::nats::NatsError),
    /// The feed cannot continue its stream (the message says why and what to pass).
    #[error("feed: {0}")]
    Feed(String),
    /// The seeded market's settings are out of range, or its replay failed.
    #[error(transparent)]
    Server(#[from] tickbench_server::Error),
    /// The command could not build its tokio runtime.
    #[error("cannot start the tokio runtime")]
    Runtime(#[source] io::Error),
    /// The command could not install a handler for the signal that stops it.
    #[error("cannot install a signal handler")]
    Signal(#[source] io::Error),
    /// `cluster up/down/status/partition`: the state, a process or a readiness wait failed.
    #[error("{0}")]
    Launch(String),
    /// Network namespaces could not be made, changed or entered (the message says what is
    /// needed).
    #[error("{0}")]
    Netns(String),
}
