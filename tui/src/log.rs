//! Where log lines go, so none is ever written across a full screen: while a screen is up
//! ([`ScreenCapture`]) each line is kept for the screen to show (the ticker puts the newest on its
//! key line) instead of going to stderr; with `--log FILE` every line also goes to the file,
//! screen or not. Without a screen, lines go to stderr as usual.
//!
//! The binary's tracing subscriber writes through [`writer`]. `tracing_subscriber::fmt` asks for
//! one writer per event and writes the whole formatted line into it, so each [`LineWriter`] holds
//! exactly one event and routes it when dropped. Colour codes (the fmt layer adds them when stderr
//! is a terminal) are stripped from what the screen and the file get.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Lines kept for a screen that has not drained them yet.
const KEEP: usize = 256;

/// One log line as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE` (empty when the line names none).
    pub level: String,
    /// The line after the timestamp and level, colour codes stripped.
    pub text: String,
}

impl LogLine {
    fn parse(line: &str) -> LogLine {
        const LEVELS: [&str; 5] = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"];
        let mut words = line.split_whitespace();
        for w in words.by_ref().take(3) {
            if let Some(l) = LEVELS.iter().find(|l| **l == w) {
                let rest = line[line.find(w).map_or(0, |i| i + w.len())..].trim();
                return LogLine {
                    level: l.to_string(),
                    text: rest.to_string(),
                };
            }
        }
        LogLine {
            level: String::new(),
            text: line.trim().to_string(),
        }
    }

    /// True for `WARN` and `ERROR`.
    pub fn is_problem(&self) -> bool {
        self.level == "WARN" || self.level == "ERROR"
    }
}

struct Router {
    /// Screens up at the moment (nested screens count).
    screens: usize,
    captured: VecDeque<LogLine>,
    file: Option<File>,
    /// Where lines go without a screen: stderr unless a test replaces it.
    fallback: Box<dyn Write + Send>,
}

fn router() -> MutexGuard<'static, Router> {
    static ROUTER: OnceLock<Mutex<Router>> = OnceLock::new();
    ROUTER
        .get_or_init(|| {
            Mutex::new(Router {
                screens: 0,
                captured: VecDeque::new(),
                file: None,
                fallback: Box::new(io::stderr()),
            })
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The writer for the binary's `tracing_subscriber::fmt().with_writer(..)`.
pub fn writer() -> ScreenAwareWriter {
    ScreenAwareWriter
}

/// Also writes every line to `path` (`--log FILE`), appending.
pub fn to_file(path: &Path) -> io::Result<()> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    router().file = Some(f);
    Ok(())
}

/// Replaces stderr as the place lines go to without a screen (tests).
pub fn set_fallback(w: Box<dyn Write + Send>) {
    router().fallback = w;
}

/// The lines captured while a screen was up, oldest first, since the last call.
pub fn drain() -> Vec<LogLine> {
    router().captured.drain(..).collect()
}

/// While alive, log lines are kept for the screen instead of written to stderr.
#[derive(Debug)]
pub struct ScreenCapture(());

impl ScreenCapture {
    pub fn begin() -> ScreenCapture {
        router().screens += 1;
        ScreenCapture(())
    }
}

impl Drop for ScreenCapture {
    /// When the last screen is gone, the lines no screen took are written out, so a screen that
    /// shows none (the dashboard, the results viewer) loses none.
    fn drop(&mut self) {
        let mut r = router();
        r.screens = r.screens.saturating_sub(1);
        if r.screens == 0 && !r.captured.is_empty() {
            let lines: Vec<LogLine> = r.captured.drain(..).collect();
            for l in lines {
                let _ = writeln!(r.fallback, "{} {}", l.level, l.text);
            }
            let _ = r.fallback.flush();
        }
    }
}

/// Makes one [`LineWriter`] per event.
#[derive(Debug, Clone, Copy)]
pub struct ScreenAwareWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ScreenAwareWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter(Vec::with_capacity(256))
    }
}

/// One event's bytes, routed when dropped.
#[derive(Debug)]
pub struct LineWriter(Vec<u8>);

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let mut r = router();
        let plain = strip_ansi(&String::from_utf8_lossy(&self.0));
        if let Some(f) = r.file.as_mut() {
            // A log file that cannot be written must not take the program down.
            let _ = f.write_all(plain.as_bytes());
        }
        if r.screens > 0 {
            for line in plain.lines().filter(|l| !l.trim().is_empty()) {
                r.captured.push_back(LogLine::parse(line));
                while r.captured.len() > KEEP {
                    r.captured.pop_front();
                }
            }
        } else {
            let _ = r.fallback.write_all(&self.0);
            let _ = r.fallback.flush();
        }
    }
}

/// `s` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_colour_and_keep_their_level() {
        let raw = "\u{1b}[2m2026-11-30T09:00:00.000Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m \u{1b}[2mtickbench_loadgen::clients::state\u{1b}[0m\u{1b}[2m:\u{1b}[0m the server's epoch changed";
        let l = LogLine::parse(&strip_ansi(raw));
        assert_eq!(l.level, "WARN");
        assert_eq!(
            l.text,
            "tickbench_loadgen::clients::state: the server's epoch changed"
        );
        assert!(l.is_problem());
        assert_eq!(LogLine::parse("plain words").level, "");
    }
}
