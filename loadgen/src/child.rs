//! The embedded server: `tickbench serve` started as a separate child process, so the server and
//! its client (the load generator, or `tickbench view`) never share a CPU scheduler, an allocator
//! or a runtime, and the server's CPU and memory can be read from `/proc/<pid>` on their own.
//!
//! The child is stopped when [`ChildServer`] is dropped (SIGTERM, then SIGKILL after a grace
//! period), which covers normal ends, errors and Ctrl-C alike. It runs in its own process group so a
//! terminal's Ctrl-C reaches only its parent, which then stops the server in order.
//!
//! The child gets `--exit-on-stdin-close` and a pipe as stdin whose write end only this process
//! holds: if the parent is killed outright (SIGKILL, no `Drop`), the pipe closes and the server
//! exits instead of lingering as an orphan. It also gets `--epoch-us T0`, the run's time origin, so
//! [`ChildServer::restart`] brings back the same seeded stream on the same port: the restarted
//! server regenerates every tick from T0 (same `seq`, `sseq`, prices and `ts`), so the clients
//! resume by cursor with no gap and no duplicate.
//!
//! ```no_run
//! use tickbench_loadgen::child::{ChildServer, ServerArgs};
//! let exe = std::env::current_exe().unwrap();
//! let server = ChildServer::start(ServerArgs { quiet: true, ..ServerArgs::new(exe) })?;
//! println!("quotes at {}", server.url());
//! // Dropping `server` stops the child.
//! # Ok::<(), tickbench_loadgen::Error>(())
//! ```

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::Error;

/// How long the child may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the child may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// What a child server is started with; kept so a restart starts the very same server.
#[derive(Debug, Clone)]
pub struct ServerArgs {
    /// The `tickbench` executable (normally `std::env::current_exe()`).
    pub exe: PathBuf,
    /// `--rate`; `None` leaves the server's default.
    pub rate: Option<f64>,
    /// `--seed`; `None` leaves the server's default.
    pub seed: Option<u64>,
    /// `--symbols`; `None` leaves the server's default.
    pub symbols: Option<usize>,
    /// The stream's time origin, µs since the Unix epoch (`--epoch-us`); a restart keeps it.
    pub epoch_us: u64,
    /// Further `tickbench serve` flags, passed verbatim (`--server-arg`).
    pub extra: Vec<String>,
    /// Drain the child's stderr instead of sharing this terminal's: a full-screen viewer must not
    /// have its screen torn by server logs. Its last line is kept for the error when it fails to
    /// start.
    pub quiet: bool,
    /// `--pin`: the cores every thread of the child runs on (set once it listens, and again
    /// after each restart); `None` leaves the affinity it inherits.
    pub cpus: Option<Vec<usize>>,
    /// `--tls`: HTTPS with a self-signed certificate, whose fingerprint the child prints.
    pub tls: bool,
}

impl ServerArgs {
    /// `exe serve` with the server's own defaults and the epoch now.
    pub fn new(exe: impl Into<PathBuf>) -> ServerArgs {
        ServerArgs {
            exe: exe.into(),
            rate: None,
            seed: None,
            symbols: None,
            epoch_us: tickbench_wire::now_micros(),
            extra: Vec::new(),
            quiet: false,
            cpus: None,
            tls: false,
        }
    }
}

/// A running `tickbench serve` child; dropping it stops the child.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    url: String,
    /// SHA-256 fingerprint of the certificate of a `--tls` child, from its second stdout line.
    fingerprint: Option<String>,
    args: ServerArgs,
    /// The write end of the child's stdin. Never written; held so the child lives exactly as long
    /// as this process (see the module docs).
    _stdin: Option<ChildStdin>,
}

impl ChildServer {
    /// Starts `<exe> serve --addr 127.0.0.1:0` with `args` and waits for its
    /// `listening on http://ADDR` line.
    pub fn start(args: ServerArgs) -> Result<ChildServer, Error> {
        Self::spawn_with(args, "127.0.0.1:0")
    }

    /// Stops the server (SIGTERM: its clients get `bye`) and starts the same one again on the same
    /// port, with the same arguments and epoch, so it continues the same sequence.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.stop();
        let addr = self
            .url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_string();
        let next = Self::spawn_with(self.args.clone(), &addr)?;
        *self = next;
        Ok(())
    }

    /// The arguments the server runs with.
    pub fn args(&self) -> &ServerArgs {
        &self.args
    }

    fn spawn_with(args: ServerArgs, addr: &str) -> Result<ChildServer, Error> {
        let mut cmd = Command::new(&args.exe);
        cmd.args(["serve", "--addr", addr]);
        if let Some(rate) = args.rate {
            cmd.arg("--rate").arg(rate.to_string());
        }
        if let Some(seed) = args.seed {
            cmd.arg("--seed").arg(seed.to_string());
        }
        if let Some(symbols) = args.symbols {
            cmd.arg("--symbols").arg(symbols.to_string());
        }
        if args.tls {
            cmd.arg("--tls");
        }
        cmd.arg("--epoch-us")
            .arg(args.epoch_us.to_string())
            .arg("--exit-on-stdin-close")
            .args(&args.extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if args.quiet {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .process_group(0);
        // The server logs at info by default; beside a load run or a viewer only its warnings are
        // news.
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "warn");
        }
        let mut child = cmd.spawn().map_err(|source| Error::ServerStart {
            exe: args.exe.clone(),
            source,
        })?;
        let start_error = |source| Error::ServerStart {
            exe: args.exe.clone(),
            source,
        };
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| start_error(std::io::Error::other("no stdout pipe")))?;

        // The last stderr line, kept for the start error; the thread drains the pipe for the
        // child's whole life so it never blocks on a full pipe.
        let stderr_tail = Arc::new(Mutex::new(String::new()));
        if let Some(err) = child.stderr.take() {
            let tail = Arc::clone(&stderr_tail);
            std::thread::Builder::new()
                .name("server-stderr".into())
                .spawn(move || {
                    for line in BufReader::new(err).lines().map_while(Result::ok) {
                        if let Ok(mut t) = tail.lock() {
                            *t = line;
                        }
                    }
                })
                .map_err(start_error)?;
        }

        // Read the first line on a thread so a silent child cannot hang us; the thread keeps
        // draining stdout afterwards so the child never blocks on a full pipe.
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("server-stdout".into())
            .spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                let first = lines.next();
                let https = matches!(&first, Some(Ok(l)) if l.contains("https://"));
                let _ = tx.send(first);
                if https {
                    // The fingerprint line follows the listening line.
                    let _ = tx.send(lines.next());
                }
                for _ in lines {}
            })
            .map_err(start_error)?;

        let stdin = child.stdin.take();
        let mut server = ChildServer {
            child,
            url: String::new(),
            fingerprint: None,
            args,
            _stdin: stdin,
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => {
                let status = server.child.wait().ok();
                // The stderr thread sees the pipe close right after the exit; give it a moment
                // to store the last line.
                std::thread::sleep(Duration::from_millis(50));
                let stderr = stderr_tail.lock().map(|t| t.clone()).unwrap_or_default();
                return Err(Error::ServerExited {
                    status: status.map_or("unknown status".into(), |s| s.to_string()),
                    stderr,
                });
            }
            Err(_) => {
                return Err(Error::ServerSilent {
                    secs: START_TIMEOUT.as_secs(),
                })
            }
        };
        server.url = parse_listening(&line).ok_or(Error::ServerLine(line))?;
        if server.url.starts_with("https://") {
            let line = match rx.recv_timeout(START_TIMEOUT) {
                Ok(Some(Ok(line))) => line,
                _ => {
                    return Err(Error::ServerLine(
                        "(no fingerprint line after https)".into(),
                    ))
                }
            };
            let fp = line.trim().strip_prefix("tls sha256 ").map(str::to_string);
            server.fingerprint = Some(fp.ok_or(Error::ServerLine(line))?);
        }
        if let Some(cpus) = &server.args.cpus {
            // Once it listens, its runtime's threads exist; later ones inherit the affinity.
            crate::pin::pin_process(Some(server.child.id()), cpus)
                .map_err(Error::os("pinning the server's threads (--pin)"))?;
        }
        Ok(server)
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// SHA-256 fingerprint (`AB:CD:…`) of a `--tls` child's certificate, to pin.
    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// The child's process id (for `/proc/<pid>` readings).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, wait up to the grace period, then SIGKILL. Idempotent; [`Drop`] calls it.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        tracing::warn!("embedded server ignored SIGTERM for {STOP_GRACE:?}; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `listening on http://127.0.0.1:4242` → `http://127.0.0.1:4242` (or `https://`).
pub(crate) fn parse_listening(line: &str) -> Option<String> {
    let url = line.trim().strip_prefix("listening on ")?.trim();
    (url.starts_with("http://") || url.starts_with("https://"))
        .then(|| url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_listening_line() {
        assert_eq!(
            parse_listening("listening on http://127.0.0.1:4242\n").as_deref(),
            Some("http://127.0.0.1:4242")
        );
        assert_eq!(
            parse_listening("listening on https://127.0.0.1:4242").as_deref(),
            Some("https://127.0.0.1:4242")
        );
        assert_eq!(parse_listening("hello"), None);
    }

    #[test]
    fn a_quiet_child_reports_its_last_stderr_line() {
        // `sh -c` ignores `serve ...` as positional args after the script.
        let args = ServerArgs {
            exe: "sh".into(),
            extra: Vec::new(),
            quiet: true,
            ..ServerArgs::new("sh")
        };
        // `sh serve` fails reading a script called `serve`; its complaint is the last line.
        let err = ChildServer::start(args).unwrap_err();
        assert!(
            matches!(err, Error::ServerExited { ref stderr, .. } if stderr.contains("serve")),
            "{err:?}"
        );
    }

    #[test]
    fn a_child_that_prints_nothing_is_an_error_not_a_hang() {
        // `true` exits at once without output.
        let err = ChildServer::start(ServerArgs::new("true")).unwrap_err();
        assert!(
            err.to_string().contains("exited before listening"),
            "{err:#}"
        );
    }
}
