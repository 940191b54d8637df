//! [`PeerOpts`], how a peer is started, and the open-file limit it is started with.

use std::process::Command;

/// How to start a peer.
#[derive(Debug, Clone)]
pub struct PeerOpts {
    /// Client port on 127.0.0.1 (`None`: a free one). Pushpin's publish port is this + 1 and its
    /// backend route this + 2 when given (free ones otherwise).
    pub port: Option<u16>,
    /// nginx worker processes (Pushpin: ignored, its runner starts one of each service).
    pub workers: usize,
    /// Open-file limit of the server's processes: enough for the client count.
    pub nofile: u64,
    /// Pushpin: the port its route sends requests to (the GRIP backend).
    pub backend_port: Option<u16>,
}

impl PeerOpts {
    /// Options for `clients` clients, on free ports.
    pub fn for_clients(clients: u64) -> PeerOpts {
        PeerOpts {
            port: None,
            workers: 1,
            nofile: file_limit_for(clients),
            backend_port: None,
        }
    }
}

/// The open-file limit a server needs for `clients` connections (plus its own files).
pub fn file_limit_for(clients: u64) -> u64 {
    (clients + 2048).max(8192)
}

pub use crate::apt::is_root;

/// `prlimit --nofile=N:N -- program`: the server starts with a file limit for the client count
/// (as root the hard limit rises too; otherwise up to the current hard limit).
pub(super) fn with_file_limit(nofile: u64, program: &str) -> Command {
    let hard = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(nofile, |(_, h)| h);
    let n = if is_root() { nofile } else { nofile.min(hard) };
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--nofile={n}:{n}")).arg("--").arg(program);
    cmd
}
