//! A running cell's progress on stderr: the load generator's per-second events as one line.

use std::io::Write;
use std::time::{Duration, Instant};

use tickbench_loadgen::progress::{Progress, Stage};
use tokio::sync::mpsc;

use crate::units::{fmt_eta, fmt_us};

/// Prints one cell's progress on stderr until the run drops its sender: a line rewritten in place
/// on a terminal, one line every 5 s otherwise (logs stay short).
pub(crate) fn print_progress(
    mut rx: mpsc::Receiver<Progress>,
    id: &str,
    after: Duration,
    tty: bool,
) {
    let mut err = std::io::stderr();
    let mut last_printed = None::<Instant>;
    let mut dirty = false;
    while let Some(event) = rx.blocking_recv() {
        let Progress::Second(s) = event else {
            continue;
        };
        let stage = match s.stage {
            Stage::Ramp => "ramp",
            Stage::Warmup => "warm-up",
            Stage::Measure => "measure",
        };
        let p50 = if s.interval.is_empty() {
            "–".to_string()
        } else {
            fmt_us(s.interval.value_at_quantile(0.5) as f64)
        };
        let eta = s.run_total.saturating_sub(s.run_elapsed) + after;
        let line = format!(
            "      {id}: {stage} {}/{} | {}/{} clients | p50 {p50} | {} deliveries/s{} | sweep ETA {}",
            s.run_elapsed.as_secs(),
            s.run_total.as_secs(),
            s.clients_connected,
            s.clients_target,
            s.delivered,
            if s.saturated { " | SATURATED" } else { "" },
            fmt_eta(eta)
        );
        if tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            dirty = true;
        } else if last_printed.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
            let _ = writeln!(err, "{line}");
            last_printed = Some(Instant::now());
        }
    }
    if dirty {
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}
