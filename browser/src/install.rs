//! Finding Debian's `chromium`, and installing it when it is missing: as root, `apt-get update`
//! and `apt-get install -y chromium`, once, under a file lock, idempotently. Never a downloaded
//! browser.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Where Debian puts it; `TICKBENCH_CHROMIUM` overrides.
const DEBIAN_PATH: &str = "/usr/bin/chromium";

/// The chromium executable: `$TICKBENCH_CHROMIUM`, `/usr/bin/chromium`, or `chromium` on the
/// `PATH`; installed first when none is there.
pub fn chromium() -> Result<PathBuf, Error> {
    if let Some(p) = find() {
        return Ok(p);
    }
    install()?;
    find().ok_or_else(|| Error::NoChromium {
        reason: "apt-get finished but no chromium executable appeared".into(),
    })
}

/// The chromium executable if one is installed.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TICKBENCH_CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    if Path::new(DEBIAN_PATH).is_file() {
        return Some(PathBuf::from(DEBIAN_PATH));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
    })
}

/// `apt-get install -y chromium` through the one installer every outside component uses (one
/// lock, re-checked inside it, so a second caller that waited installs nothing).
fn install() -> Result<(), Error> {
    tickbench_loadgen::apt::ensure("chromium", || find().is_some())
        .map_err(|reason| Error::NoChromium { reason })
}
