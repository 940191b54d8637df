//! The event-loop probe: how long a task that became ready waits for its worker's event loop.
//! A worker whose loop falls behind makes every latency it measures a lie; this is how a run
//! notices.
//!
//! A pacer thread (one per probe, asleep between beats) stamps a beat every [`PERIOD`] and sends
//! it to the probe task on the worker's loop, which records how long ago the beat was stamped.
//! That is the wait of any ready task on that loop: the worker thread's own wake-up (from idle,
//! or behind the server's threads on a shared core) and the work queued ahead of it (a fan-out
//! burst). It is not measured with a tokio timer: tokio's timer wheel fires at whole
//! milliseconds, so a 10 ms sleep measured against its requested deadline read 0–1 ms late on an
//! idle loop, and the rounding of the requested and the observed time put an idle worker's p99
//! at about 2 ms, the saturation rule's floor, on every light phase (see
//! experiments/README.md, "Event-loop lag on light loads").

use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::error::TrySendError;

/// How often the probe beats.
pub const PERIOD: Duration = Duration::from_millis(10);

/// Runs the probe on the current (worker) runtime until it is dropped: `record(µs)` gets each
/// beat's wait. The pacer thread ends at its next beat after the probe is gone.
pub async fn run(mut record: impl FnMut(u64)) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Instant>(1);
    // A std channel only to learn, at start, that the thread is running; a thread that cannot
    // start leaves the probe silent (no lag recorded), which the caller cannot fix anyway.
    let (started_tx, started_rx) = sync_channel::<()>(1);
    let pacer = std::thread::Builder::new()
        .name("loadgen-lag-probe".into())
        .spawn(move || {
            let _ = started_tx.send(());
            let mut next = Instant::now() + PERIOD;
            loop {
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                }
                // Stamped when sent, not when due: the pacer's own late wake-up is not the loop's.
                match tx.try_send(Instant::now()) {
                    // The loop has not taken the last beat yet: that beat's wait covers this one.
                    Ok(()) | Err(TrySendError::Full(_)) => {}
                    Err(TrySendError::Closed(_)) => return,
                }
                next = (next + PERIOD).max(Instant::now());
            }
        });
    if pacer.is_err() {
        tracing::warn!("could not start the event-loop probe's thread: loop lag not measured");
        return;
    }
    let _ = started_rx.recv();
    while let Some(sent) = rx.recv().await {
        record(sent.elapsed().as_micros() as u64);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::saturation::loop_lag_reason;

    /// The `q` quantile of `v`, and a one-line description.
    fn quantiles(v: &mut [u64]) -> (u64, String) {
        v.sort_unstable();
        let q = |p: f64| v[((v.len() - 1) as f64 * p) as usize];
        let line = format!(
            "n={} p50={} p90={} p99={} max={} µs",
            v.len(),
            q(0.5),
            q(0.9),
            q(0.99),
            v[v.len() - 1]
        );
        (q(0.99), line)
    }

    /// How late a 10 ms tokio timer fires against its requested deadline (the old probe).
    async fn timer_probe(out: Rc<RefCell<Vec<u64>>>) {
        let mut next = tokio::time::Instant::now() + PERIOD;
        loop {
            tokio::time::sleep_until(next).await;
            let now = tokio::time::Instant::now();
            let late = now.saturating_duration_since(next).as_micros() as u64;
            out.borrow_mut().push(late);
            next += PERIOD;
            if next < now {
                next = now + PERIOD;
            }
        }
    }

    /// Runs a worker-like loop (current-thread runtime, `LocalSet`) for `secs` with both probes
    /// and, every `every`, a busy stretch of `busy` (a fan-out burst, or a saturated worker).
    /// Returns (this probe's waits, the timer probe's lateness), µs.
    fn measure(secs: f64, busy: Duration, every: Duration) -> (Vec<u64>, Vec<u64>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        let (pacer, timer) = (
            Rc::new(RefCell::new(Vec::new())),
            Rc::new(RefCell::new(Vec::new())),
        );
        local.block_on(&rt, async {
            tokio::task::spawn_local(timer_probe(timer.clone()));
            let p = pacer.clone();
            tokio::task::spawn_local(run(move |us| p.borrow_mut().push(us)));
            if !busy.is_zero() {
                tokio::task::spawn_local(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        let t = Instant::now();
                        while t.elapsed() < busy {
                            std::hint::spin_loop();
                        }
                    }
                });
            }
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        });
        drop(local);
        (pacer.take(), timer.take())
    }

    /// A worker whose loop is blocked for 30 ms at a time is flagged: beats that arrive during a
    /// block wait for its end (a lower bound by construction, whatever the machine).
    #[test]
    fn a_blocked_loop_is_flagged() {
        let (mut pacer, _) = measure(1.5, Duration::from_millis(30), Duration::from_millis(30));
        let (p99, line) = quantiles(&mut pacer);
        assert!(p99 >= 10_000, "blocked 30 ms of every 60: {line}");
        assert!(loop_lag_reason(p99, 0).is_some(), "{line}");
        assert!(loop_lag_reason(p99, 4_000).is_some(), "{line}");
    }

    /// An idle worker is not flagged: the probe sees the thread's wake-up, not a timer's
    /// millisecond rounding.
    #[test]
    fn an_idle_loop_is_not_flagged() {
        let (mut pacer, _) = measure(1.5, Duration::ZERO, Duration::ZERO);
        let (p99, line) = quantiles(&mut pacer);
        assert!(pacer.len() >= 50, "beats: {line}");
        assert!(loop_lag_reason(p99, 0).is_none(), "idle loop: {line}");
    }

    /// The measurement behind this probe (prints, asserts nothing; run it on a quiet machine):
    /// `cargo test -p tickbench-loadgen --lib timer_vs_pacer -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn timer_vs_pacer() {
        for (busy, every) in [(0, 100), (1, 100), (3, 100)] {
            let (mut pacer, mut timer) = measure(
                5.0,
                Duration::from_millis(busy),
                Duration::from_millis(every),
            );
            eprintln!(
                "busy {busy} ms every {every} ms: pacer probe {}",
                quantiles(&mut pacer).1
            );
            eprintln!(
                "busy {busy} ms every {every} ms: tokio 10 ms timer {}",
                quantiles(&mut timer).1
            );
        }
    }
}
