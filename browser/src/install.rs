//! Finding Debian's `chromium`, and installing it when it is missing: as root, `apt-get update`
//! and `apt-get install -y chromium`, once, under a file lock, idempotently. Never a downloaded
//! browser.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;

/// Where Debian puts it; `TICKBENCH_CHROMIUM` overrides.
const DEBIAN_PATH: &str = "/usr/bin/chromium";
/// The lock every tickbench installer takes around apt-get, so parallel tests install once.
const LOCK: &str = "tickbench-apt.lock";

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

/// `apt-get update && apt-get install -y chromium` under `flock` (util-linux), re-checking inside
/// the lock so a second caller that waited finds it installed and does nothing.
fn install() -> Result<(), Error> {
    let impossible = |reason: String| Error::NoChromium { reason };
    if !is_root() {
        return Err(impossible("not running as root".into()));
    }
    if !has("apt-get") || !has("flock") {
        return Err(impossible("no apt-get (not a Debian system)".into()));
    }
    let lock = std::env::temp_dir().join(LOCK);
    eprintln!("tickbench: chromium is missing; installing Debian's chromium with apt-get (once)");
    let script = "command -v chromium >/dev/null 2>&1 && exit 0; \
        export DEBIAN_FRONTEND=noninteractive; \
        apt-get update -q && apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium";
    let status = Command::new("flock")
        .arg("-w")
        .arg("1200")
        .arg(&lock)
        .args(["sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| impossible(format!("cannot run flock/apt-get: {e}")))?;
    if !status.success() {
        return Err(impossible(format!("apt-get failed ({status})")));
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
