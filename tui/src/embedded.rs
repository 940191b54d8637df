//! An embedded quote server for `tickbench view` without a URL: this same binary started as
//! `tickbench serve --addr 127.0.0.1:0`, its address read from the first stdout line
//! (`listening on http://ADDR`), killed when the viewer exits.
//!
//! A child process rather than an in-process server keeps the viewer's runtime free of the
//! server's load and matches what `tickbench run` does.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::Context;

/// The running child; dropping it kills and reaps it.
pub struct EmbeddedServer {
    child: Child,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl EmbeddedServer {
    /// Starts `exe serve --addr 127.0.0.1:0` and waits for its address line.
    pub fn start(exe: &std::path::Path) -> anyhow::Result<Self> {
        let mut child = Command::new(exe)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start the embedded server ({})", exe.display()))?;
        // Keep the last stderr lines for the error message, and keep both pipes drained so the
        // child never blocks on a full pipe.
        let stderr_tail = Arc::new(Mutex::new(String::new()));
        if let Some(err) = child.stderr.take() {
            let tail = Arc::clone(&stderr_tail);
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut t) = tail.lock() {
                        *t = line;
                    }
                }
            });
        }
        let mut out = BufReader::new(child.stdout.take().context("no stdout pipe")?);
        let mut first = String::new();
        let _ = out.read_line(&mut first);
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut out.into_inner().take(u64::MAX), &mut std::io::sink());
        });
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .map(str::to_string)
            .filter(|u| u.starts_with("http://"));
        match url {
            Some(url) => Ok(Self { child, url }),
            None => {
                let _ = child.kill();
                let status = child.wait().ok();
                std::thread::sleep(std::time::Duration::from_millis(50));
                let tail = stderr_tail.lock().map(|t| t.clone()).unwrap_or_default();
                anyhow::bail!(
                    "embedded server did not start ({}){}",
                    status.map_or("no status".into(), |s| s.to_string()),
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!(": {tail}")
                    }
                )
            }
        }
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
