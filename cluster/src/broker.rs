//! The NATS broker: installing Debian's `nats-server` when it is missing (as root, `apt-get
//! update` and `apt-get install -y nats-server`, once, under a file lock, idempotently: the check
//! is repeated inside the lock so concurrent test binaries install once), and running one on a
//! loopback port with JetStream and a store directory of its own.
//!
//! The store directory outlives a [`Broker`] stop, so a broker restarted on the same port and
//! store ([`Broker::restart`]) still holds the stream: what a NATS restart mid-run looks like.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::Error;

/// What a user runs to install nats-server by hand.
pub const INSTALL_COMMAND: &str = "apt-get update && apt-get install -y nats-server";
/// The Debian package.
const PACKAGE: &str = "nats-server";
/// How long a starting nats-server may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The nats-server binary, if installed.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into(), "/sbin".into()])
        .map(|d| d.join(PACKAGE))
        .find(|p| p.is_file())
}

/// Installs nats-server if it is missing; its path once it is installed.
pub fn ensure_installed() -> Result<PathBuf, Error> {
    if let Some(p) = binary() {
        return Ok(p);
    }
    tickbench_loadgen::apt::ensure(PACKAGE, || binary().is_some()).map_err(|why| {
        Error::Broker(format!(
            "nats-server is not installed and could not be installed ({why}); install it with: sudo sh -c '{INSTALL_COMMAND}'"
        ))
    })?;
    binary().ok_or_else(|| Error::Broker("nats-server installed but not found".into()))
}

/// A running nats-server child with JetStream; stopped (SIGTERM, then SIGKILL) on drop.
#[derive(Debug)]
pub struct Broker {
    bin: PathBuf,
    child: Option<Child>,
    addr: SocketAddr,
    store: PathBuf,
}

impl Broker {
    /// Installs nats-server if needed and starts it on `ip`:`port` (0 = a free port) with
    /// JetStream storing in `store`.
    pub fn start(ip: std::net::IpAddr, port: u16, store: &Path) -> Result<Broker, Error> {
        let bin = ensure_installed()?;
        let mut b = Broker {
            bin,
            child: None,
            addr: SocketAddr::new(ip, port),
            store: store.to_path_buf(),
        };
        b.launch()?;
        Ok(b)
    }

    /// `nats://IP:PORT`
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The child's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server (SIGTERM; SIGKILL after 5 s). The store stays.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops the server and starts it again on the same address and store.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.stop();
        self.launch()
    }

    /// Starts the child and waits for its "Listening for client connections on" line (which
    /// names the port when it was 0) and for JetStream to be ready.
    fn launch(&mut self) -> Result<(), Error> {
        std::fs::create_dir_all(&self.store)
            .map_err(|e| Error::Broker(format!("cannot create {}: {e}", self.store.display())))?;
        let port = match self.addr.port() {
            0 => "-1".to_string(),
            p => p.to_string(),
        };
        let mut child = Command::new(&self.bin)
            .args(["-a", &self.addr.ip().to_string(), "-p", &port, "-js", "-sd"])
            .arg(&self.store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Broker(format!("cannot start {}: {e}", self.bin.display())))?;
        let stderr = child.stderr.take();
        self.child = Some(child);
        let (tx, rx) = std::sync::mpsc::channel::<Result<u16, String>>();
        // Reads the log for the port and readiness, then keeps draining it so the child never
        // blocks on a full pipe; the thread ends with the child.
        std::thread::spawn(move || {
            let Some(stderr) = stderr else {
                let _ = tx.send(Err("no stderr".into()));
                return;
            };
            let mut port = None;
            let mut tail = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("Listening for client connections on ").nth(1) {
                    port = rest.rsplit(':').next().and_then(|p| p.trim().parse().ok());
                }
                if line.contains("Server is ready") {
                    let _ = tx.send(port.ok_or_else(|| "no port in its log".to_string()));
                }
                if tail.len() < 20 {
                    tail.push(line);
                }
            }
            let _ = tx.send(Err(format!("exited: {}", tail.join(" | "))));
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(port)) => {
                self.addr.set_port(port);
                Ok(())
            }
            Ok(Err(why)) => {
                self.stop();
                Err(Error::Broker(format!("nats-server did not start: {why}")))
            }
            Err(_) => {
                self.stop();
                Err(Error::Broker(format!(
                    "nats-server was not ready within {START_TIMEOUT:?}"
                )))
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}
