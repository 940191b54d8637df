//! Installing the peers from Debian packages when they are missing: as root, `apt-get update` and
//! `apt-get install -y nginx libnginx-mod-nchan pushpin`, once, under a file lock (`flock`), and
//! idempotently (the check is repeated inside the lock, so concurrent test binaries install once).
//! Where that is impossible (not root, no apt-get, no network) the error names the command.

use crate::apt::on_path;
use crate::error::Error;
use crate::targets::TargetKind;
use std::path::Path;

/// What a user runs to install the peers by hand.
pub const INSTALL_COMMAND: &str =
    "apt-get update && apt-get install -y nginx libnginx-mod-nchan pushpin";

/// The Debian packages.
const PACKAGES: &str = "nginx libnginx-mod-nchan pushpin";

/// Whether `kind`'s server is installed.
pub fn installed(kind: TargetKind) -> bool {
    match kind {
        TargetKind::Tickbench => true,
        TargetKind::Nchan => {
            on_path("nginx") && Path::new(super::nginx::MODULE).exists() && on_path("prlimit")
        }
        TargetKind::Pushpin => on_path("pushpin") && on_path("prlimit"),
    }
}

/// Installs the peers if `kind`'s is missing; `Ok` when it is installed afterwards.
pub fn ensure(kind: TargetKind) -> Result<(), Error> {
    if installed(kind) {
        return Ok(());
    }
    crate::apt::ensure(PACKAGES, || installed(kind)).map_err(|why| {
        Error::Peer(format!(
            "{kind} is not installed and could not be installed ({why}); install it with: sudo sh -c '{INSTALL_COMMAND}'"
        ))
    })
}
