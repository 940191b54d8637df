//! A headless Chromium process and the DevTools protocol over its debugging pipe
//! (`--remote-debugging-pipe`: JSON messages separated by NUL bytes, commands in on fd 3,
//! answers and events out on fd 4).
//!
//! Why this and not chromiumoxide or chromedriver + fantoccini: the measurement needs five
//! commands (create a tab, navigate, evaluate, screenshot, close), and chromiumoxide's generated
//! bindings of the whole protocol take minutes to compile on this 2-core machine, while
//! WebDriver adds a second process and an HTTP hop per command. The pipe needs no port, no
//! WebSocket client and no new dependency beyond `serde_json` (and `base64` for screenshots).
//! The fds are set up by `sh -c 'exec chromium … 3<&0 4>&1'`, so no `unsafe` `pre_exec` is needed.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::error::Error;

/// How long one DevTools command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The flags every launch uses. The network ones keep Chromium from calling home (the machine's
/// network is closed); the background ones keep timers in unfocused tabs at full speed, since a
/// throttled timer would show up as latency that the technique does not have.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
];

type Pending = Arc<Mutex<HashMap<u64, mpsc::Sender<Value>>>>;

/// A running headless Chromium; dropping it closes the browser and removes its profile.
#[derive(Debug)]
pub struct Browser {
    exe: PathBuf,
    child: Child,
    /// Commands go here (the child's fd 3).
    input: Mutex<ChildStdin>,
    /// Answers waited for, by command id; the reader thread hands each answer over.
    pending: Pending,
    next_id: AtomicU64,
    /// Chromium's last stderr line, for error messages.
    stderr_tail: Arc<Mutex<String>>,
    /// `Chrome/156.0…`, from `Browser.getVersion`.
    version: String,
    /// A fresh, empty profile (`--user-data-dir`), removed on drop.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `exe` headless with a fresh profile. `insecure` accepts any certificate (the
    /// embedded server's self-signed one with `--tls`).
    pub fn launch(exe: &Path, insecure: bool) -> Result<Browser, Error> {
        let fail = |what: String| Error::Chromium {
            exe: exe.to_path_buf(),
            what,
            stderr: String::new(),
        };
        let profile = tempfile::Builder::new()
            .prefix("tickbench-chromium-")
            .tempdir()
            .map_err(|e| fail(format!("cannot get a profile folder: {e}")))?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(exe)
            .args(FLAGS)
            .arg("--window-size=1280,900")
            .arg(format!("--user-data-dir={}", profile.path().display()));
        if insecure {
            cmd.arg("--ignore-certificate-errors");
        }
        let mut child = cmd
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot be started: {e}")))?;
        let (Some(input), Some(output), Some(err)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(fail("has no pipes".into()));
        };
        let stderr_tail = Arc::new(Mutex::new(String::new()));
        let tail = Arc::clone(&stderr_tail);
        std::thread::Builder::new()
            .name("chromium-stderr".into())
            .spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut t) = tail.lock() {
                        *t = line;
                    }
                }
            })
            .map_err(|e| fail(format!("no thread for its stderr: {e}")))?;
        let pending: Pending = Arc::default();
        let readers = Arc::clone(&pending);
        std::thread::Builder::new()
            .name("chromium-devtools".into())
            .spawn(move || read_messages(output, readers))
            .map_err(|e| fail(format!("no thread for its pipe: {e}")))?;
        let mut browser = Browser {
            exe: exe.to_path_buf(),
            child,
            input: Mutex::new(input),
            pending,
            next_id: AtomicU64::new(1),
            stderr_tail,
            version: String::new(),
            _profile: profile,
        };
        let v = browser
            .call(None, "Browser.getVersion", json!({}))
            .map_err(|e| browser.died(&format!("did not answer on its DevTools pipe ({e})")))?;
        browser.version = v["product"].as_str().unwrap_or("chromium").to_string();
        Ok(browser)
    }

    /// `Chrome/156.0.8078.114` (Debian's build reports itself as Chrome).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Sends one command (to the browser, or to a page's `session`) and waits for its answer.
    pub fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value, Error> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = mpsc::channel();
        lock(&self.pending).insert(id, tx);
        let cdp = |message: String| Error::Cdp {
            method: method.to_string(),
            message,
        };
        let mut bytes = serde_json::to_vec(&msg).map_err(|e| cdp(e.to_string()))?;
        bytes.push(0);
        {
            let mut input = lock(&self.input);
            input
                .write_all(&bytes)
                .and_then(|()| input.flush())
                .map_err(|e| cdp(format!("the browser's pipe is closed ({e})")))?;
        }
        let answer = rx.recv_timeout(COMMAND_TIMEOUT);
        lock(&self.pending).remove(&id);
        let answer = answer.map_err(|_| {
            cdp(format!(
                "no answer in {}s (browser {})",
                COMMAND_TIMEOUT.as_secs(),
                self.stderr_line()
            ))
        })?;
        if let Some(e) = answer.get("error") {
            return Err(cdp(e["message"].as_str().unwrap_or("error").to_string()));
        }
        Ok(answer.get("result").cloned().unwrap_or(Value::Null))
    }

    fn stderr_line(&self) -> String {
        lock(&self.stderr_tail).clone()
    }

    fn died(&mut self, what: &str) -> Error {
        let _ = self.child.kill();
        let _ = self.child.wait();
        Error::Chromium {
            exe: self.exe.clone(),
            what: what.to_string(),
            stderr: self.stderr_line(),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(mut input) = self.input.lock() {
            let _ = input.write_all(b"{\"id\":0,\"method\":\"Browser.close\"}\0");
            let _ = input.flush();
        }
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reader thread: splits fd 4 on NUL bytes and hands each answer to its waiting caller.
/// Events (messages without an id) are not needed: the page is read by evaluation.
fn read_messages(output: impl Read, pending: Pending) {
    let mut reader = BufReader::new(output);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(0, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if buf.last() == Some(&0) {
            buf.pop();
        }
        let Ok(msg) = serde_json::from_slice::<Value>(&buf) else {
            continue;
        };
        if let Some(id) = msg.get("id").and_then(Value::as_u64) {
            if let Some(tx) = lock(&pending).remove(&id) {
                let _ = tx.send(msg);
            }
        }
    }
    // The browser is gone: every waiting caller's sender is dropped, so it fails at once.
    lock(&pending).clear();
}

/// A poisoned lock only means another thread panicked mid-update of a map or a pipe handle;
/// the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
