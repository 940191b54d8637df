//! Installing a missing Debian package for the outside components tickbench starts (nginx +
//! Nchan, Pushpin, nats-server, chromium): as root, `apt-get update` and `apt-get install -y`,
//! once, under one file lock, idempotently.
//!
//! One installer and one lock for every caller: two `apt-get`s at once would fight over dpkg's
//! lock, and a caller that waited re-checks inside the lock (`dpkg -s`) and installs nothing.

use std::process::{Command, Stdio};

/// The lock every installer takes around `apt-get`.
pub const LOCK: &str = "/tmp/tickbench-apt.lock";

/// Installs `packages` (space-separated) unless `present()` already holds; `Ok` when it holds
/// afterwards. The error is why installing was impossible or failed, for the caller to wrap with
/// the command a user can run by hand.
pub fn ensure(packages: &str, present: impl Fn() -> bool) -> Result<(), String> {
    if present() {
        return Ok(());
    }
    if !is_root() {
        return Err("not running as root".into());
    }
    if !on_path("apt-get") || !on_path("flock") {
        return Err("no apt-get or flock on this machine".into());
    }
    eprintln!("tickbench: installing {packages} (apt-get, once, under {LOCK})");
    // Installed means dpkg's status "install ok installed": `dpkg -s` also succeeds for a package
    // that was removed but left its config files, which would skip the install.
    let script = format!(
        "missing=; for p in {packages}; do \
         dpkg-query -W -f='${{Status}}' \"$p\" 2>/dev/null | grep -q '^install ok installed$' || missing=1; \
         done; [ -z \"$missing\" ] || {{ apt-get update -q && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 {packages}; }}"
    );
    let status = Command::new("flock")
        .args(["-w", "1200", LOCK, "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run flock: {e}"))?;
    match (status.success(), present()) {
        (true, true) => Ok(()),
        (true, false) => Err(format!(
            "apt-get installed {packages} but it is still missing"
        )),
        (false, _) => Err(format!("apt-get exited with {status}")),
    }
}

/// Whether `program` is an executable on the `PATH` (or in `/usr/sbin`, `/sbin`, where root's
/// tools live even when the `PATH` lacks them).
pub fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .any(|d| d.join(program).is_file())
}

/// Whether this process runs as root (real uid 0, from `/proc/self/status`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(2)?.parse::<u32>().ok()
        })
        .is_some_and(|uid| uid == 0)
}
