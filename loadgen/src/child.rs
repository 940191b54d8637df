//! The embedded server: `tickbench serve` started as a separate child process, so the server and
//! the load generator never share a CPU scheduler, an allocator or a runtime, and the server's CPU
//! and memory can be read from `/proc/<pid>` on their own.
//!
//! The child is stopped when [`ChildServer`] is dropped (SIGTERM, then SIGKILL after a grace
//! period), which covers normal ends, errors and Ctrl-C alike. It runs in its own process group so a
//! terminal's Ctrl-C reaches only the load generator, which then stops the server in order.
//!
//! The child gets `--exit-on-stdin-close` and a pipe as stdin whose write end only this process
//! holds: if the load generator is killed outright (SIGKILL, no `Drop`), the pipe closes and the
//! server exits instead of lingering as an orphan. It also gets `--epoch-us T0`, the run's time
//! origin, so [`ChildServer::restart`] brings back the same seeded stream on the same port: the
//! restarted server regenerates every tick from T0 (same `seq`, `sseq`, prices and `ts`), so the
//! clients resume by cursor with no gap and no duplicate.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long the child may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the child may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// What a child server is started with; kept so a restart starts the very same server.
#[derive(Debug, Clone)]
pub struct ServerArgs {
    pub exe: std::path::PathBuf,
    pub rate: f64,
    pub seed: u64,
    pub symbols: usize,
    /// The run's time origin, µs since the Unix epoch (`--epoch-us`).
    pub epoch_us: u64,
    /// Further `tickbench serve` flags, passed verbatim (`--server-arg`).
    pub extra: Vec<String>,
}

/// A running `tickbench serve` child.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    url: String,
    args: ServerArgs,
    /// The write end of the child's stdin. Never written; held so the child lives exactly as long
    /// as this process (see the module docs).
    _stdin: Option<ChildStdin>,
}

impl ChildServer {
    /// Starts `<exe> serve --addr 127.0.0.1:0 --rate R --seed S --symbols N` (epoch now) and waits
    /// for its `listening on http://ADDR` line.
    pub fn spawn(
        exe: &Path,
        rate: f64,
        seed: u64,
        symbols: usize,
        extra: &[String],
    ) -> anyhow::Result<ChildServer> {
        let args = ServerArgs {
            exe: exe.to_path_buf(),
            rate,
            seed,
            symbols,
            epoch_us: tickbench_wire::now_micros(),
            extra: extra.to_vec(),
        };
        Self::spawn_with(args, "127.0.0.1:0")
    }

    /// Stops the server (SIGTERM: its clients get `bye`) and starts the same one again on the same
    /// port, with the same seed, rate, symbols and epoch, so it continues the same sequence.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let addr = self.url.trim_start_matches("http://").to_string();
        let next = Self::spawn_with(self.args.clone(), &addr)?;
        *self = next;
        Ok(())
    }

    /// The arguments the server runs with.
    pub fn args(&self) -> &ServerArgs {
        &self.args
    }

    fn spawn_with(args: ServerArgs, addr: &str) -> anyhow::Result<ChildServer> {
        let exe = args.exe.as_path();
        let mut cmd = Command::new(exe);
        cmd.args(["serve", "--addr", addr])
            .arg("--rate")
            .arg(args.rate.to_string())
            .arg("--seed")
            .arg(args.seed.to_string())
            .arg("--symbols")
            .arg(args.symbols.to_string())
            .arg("--epoch-us")
            .arg(args.epoch_us.to_string())
            .arg("--exit-on-stdin-close")
            .args(&args.extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0);
        // The server logs at info by default; under a load run only its warnings are news.
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "warn");
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting the embedded server ({})", exe.display()))?;
        let stdout = child
            .stdout
            .take()
            .context("embedded server has no stdout")?;

        // Read the first line on a thread so a silent child cannot hang us; the thread keeps
        // draining stdout afterwards so the child never blocks on a full pipe.
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("server-stdout".into())
            .spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                let first = lines.next();
                let _ = tx.send(first);
                for _ in lines {}
            })
            .context("spawning the server stdout reader")?;

        let stdin = child.stdin.take();
        let mut server = ChildServer {
            child,
            url: String::new(),
            args,
            _stdin: stdin,
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => {
                let status = server.child.wait().ok();
                anyhow::bail!(
                    "the embedded server exited before listening ({})",
                    status.map_or("unknown status".into(), |s| s.to_string())
                );
            }
            Err(_) => anyhow::bail!(
                "the embedded server did not report its address within {}s",
                START_TIMEOUT.as_secs()
            ),
        };
        server.url = parse_listening(&line)
            .with_context(|| format!("unexpected first line from the embedded server: {line:?}"))?;
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, wait up to the grace period, then SIGKILL. Idempotent.
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

/// `listening on http://127.0.0.1:4242` → `http://127.0.0.1:4242`.
fn parse_listening(line: &str) -> Option<String> {
    let url = line.trim().strip_prefix("listening on ")?.trim();
    url.starts_with("http://")
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
        assert_eq!(parse_listening("hello"), None);
    }

    #[test]
    fn a_child_that_prints_nothing_is_an_error_not_a_hang() {
        // `true` exits at once without output.
        let err = ChildServer::spawn(Path::new("true"), 1.0, 1, 1, &[]).unwrap_err();
        assert!(
            err.to_string().contains("exited before listening"),
            "{err:#}"
        );
    }
}
