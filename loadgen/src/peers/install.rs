//! Installing the peers from Debian packages when they are missing: as root, `apt-get update` and
//! `apt-get install -y nginx libnginx-mod-nchan pushpin`, once, under a file lock (`flock`), and
//! idempotently (the check is repeated inside the lock, so concurrent test binaries install once).
//! Where that is impossible (not root, no apt-get, no network) the error names the command.

use std::path::Path;
use std::process::Command;

use super::opts::is_root;
use crate::error::Error;
use crate::targets::TargetKind;

/// What a user runs to install the peers by hand.
pub const INSTALL_COMMAND: &str =
    "apt-get update && apt-get install -y nginx libnginx-mod-nchan pushpin";

/// The Debian packages.
const PACKAGES: &str = "nginx libnginx-mod-nchan pushpin";

/// The lock concurrent installers wait on.
const LOCK: &str = "/tmp/tickbench-peers-install.lock";

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

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .any(|d| d.join(program).is_file())
}

/// Installs the peers if `kind`'s is missing; `Ok` when it is installed afterwards.
pub fn ensure(kind: TargetKind) -> Result<(), Error> {
    if installed(kind) {
        return Ok(());
    }
    let fail = |why: String| {
        Err(Error::Peer(format!(
            "{kind} is not installed and could not be installed ({why}); install it with: sudo sh -c '{INSTALL_COMMAND}'"
        )))
    };
    if !is_root() {
        return fail("not running as root".into());
    }
    if !on_path("apt-get") || !on_path("flock") {
        return fail("no apt-get or flock on this machine".into());
    }
    eprintln!("tickbench: installing {PACKAGES} (apt-get, once, under {LOCK})");
    let script = format!(
        "dpkg -s {PACKAGES} >/dev/null 2>&1 || {{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y {PACKAGES}; }}"
    );
    let status = Command::new("flock")
        .arg(LOCK)
        .arg("sh")
        .arg("-c")
        .arg(&script)
        .status();
    match status {
        Ok(s) if s.success() && installed(kind) => Ok(()),
        Ok(s) => fail(format!("apt-get exited with {s}")),
        Err(e) => fail(format!("cannot run flock: {e}")),
    }
}
