//! [`Error`]: why the server library could not start or keep running (what `spawn` and `run`
//! return); the answers to bad requests are `api_error`'s.

use std::io;
use std::net::SocketAddr;

/// A failure of the server itself, not of one request. The underlying cause, if any, is the
/// [`source`](std::error::Error::source) (so `{:#}` with anyhow prints "context: cause").
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting the server cannot honour; the message names it (`rate`, `epoch-us`, ...).
    #[error("{0}")]
    BadConfig(String),
    /// The `--replay` tape cannot be read or has a bad line (the message names it).
    #[error(transparent)]
    Tape(#[from] crate::feed::TapeError),
    /// An edge's NATS feed (`--feed nats://...`) is unreachable or holds no tickbench stream.
    #[error(transparent)]
    Nats(#[from] crate::feed::nats::NatsError),
    /// The listening socket could not be opened (address in use, not permitted, ...).
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// The market replay up to now (`--epoch-us`) panicked or was cancelled.
    #[error("replay of the market failed")]
    Replay(#[source] tokio::task::JoinError),
    /// The paced generator's thread could not be spawned.
    #[error("cannot start the generator thread")]
    Generator(#[source] io::Error),
    /// `run` could not build its tokio runtime.
    #[error("cannot start the tokio runtime")]
    Runtime(#[source] io::Error),
    /// `run` could not install a handler for the signal that stops it.
    #[error("cannot install {signal} handler")]
    Signal {
        signal: &'static str,
        #[source]
        source: io::Error,
    },
    /// `run` could not print its `listening on` line (e.g. the parent closed the pipe).
    #[error("cannot write the listening address to stdout")]
    Stdout(#[source] io::Error),
}
