//! When the load generator, not the server, is the bottleneck. A saturated phase's latencies
//! describe the instrument, so the results say so loudly instead of presenting them as the
//! server's.
//!
//! # Layout
//! - this file: the rules (CPU, schedule lag, event-loop lag) and their reasons' wording.
//! - [`probe`]: the event-loop probe each worker runs.

use std::time::Duration;

pub mod probe;

/// Loadgen CPU share of its worker cores above which a second counts as pinned.
pub const CPU_LIMIT: f64 = 0.90;
/// Event-loop lag (p99 of how long the [`probe`]'s beats wait for a worker's loop) is always
/// tolerated up to this. The probe no longer sits behind tokio's millisecond timer wheel (which
/// alone put an idle worker's p99 at this floor), so an idle worker reads a few hundred µs (its
/// thread's wake-up) and the floor is the OS's scheduling jitter on a shared vCPU.
pub const LOOP_LAG_FLOOR_US: u64 = 2_000;
/// Beyond the floor, event-loop lag counts as saturation once its p99 exceeds this share of the
/// latency p99 being measured. The lag is a bound on what the instrument adds to a tick's
/// latency (a tick that arrives while the loop is late is parsed late), so it matters relative
/// to what is measured: 8 ms of lag swamps a 2 ms p99 and is a fifth of a 40 ms one. An
/// absolute 5 ms limit flagged nearly every phase on a 2-vCPU machine whose server and load
/// generator share the cores, and a flag that always fires carries no information (sweep
/// verdicts discount flagged cells).
pub const LOOP_LAG_SHARE: f64 = 0.25;

/// What one second (or a whole phase) looked like to the instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Loadgen CPU in the second, percent of one core.
    pub loadgen_cpu_pct: f64,
    /// Worker threads (cores the load generator may use).
    pub workers: usize,
    /// p99 of how late scheduled requests fired, µs.
    pub schedule_lag_p99_us: u64,
    /// p99 of the event-loop probe's lateness, µs.
    pub loop_lag_p99_us: u64,
    /// p99 of the latency being measured (full-speed clients), µs; 0 = none measured.
    pub latency_p99_us: u64,
    /// The polling interval: the schedule may lag by 10 % of it before that distorts results.
    pub poll_interval: Duration,
}

/// Schedule lag allowed before a phase counts as behind: max(5 ms, 10 % of the poll interval).
pub fn schedule_lag_limit_us(poll_interval: Duration) -> u64 {
    (poll_interval.as_micros() as u64 / 10).max(5_000)
}

/// The reasons `load` counts as saturated (empty: it does not).
pub fn reasons(load: &Load) -> Vec<String> {
    let mut out = Vec::new();
    let cpu_limit = CPU_LIMIT * 100.0 * load.workers as f64;
    if load.loadgen_cpu_pct >= cpu_limit {
        out.push(format!(
            "load generator CPU {:.0}% ≥ {:.0}% of {} worker core(s)",
            load.loadgen_cpu_pct,
            CPU_LIMIT * 100.0,
            load.workers
        ));
    }
    let lag_limit = schedule_lag_limit_us(load.poll_interval);
    if load.schedule_lag_p99_us > lag_limit {
        out.push(format!(
            "schedule behind: p99 lag {:.1} ms > {:.1} ms",
            load.schedule_lag_p99_us as f64 / 1000.0,
            lag_limit as f64 / 1000.0
        ));
    }
    if let Some(r) = loop_lag_reason(load.loop_lag_p99_us, load.latency_p99_us) {
        out.push(r);
    }
    out
}

/// The event-loop limit for a measured latency p99: max([`LOOP_LAG_FLOOR_US`],
/// [`LOOP_LAG_SHARE`] × p99).
pub fn loop_lag_limit_us(latency_p99_us: u64) -> u64 {
    ((latency_p99_us as f64 * LOOP_LAG_SHARE) as u64).max(LOOP_LAG_FLOOR_US)
}

/// Why the event-loop lag makes the latencies the instrument's, if it does.
pub fn loop_lag_reason(loop_lag_p99_us: u64, latency_p99_us: u64) -> Option<String> {
    let limit = loop_lag_limit_us(latency_p99_us);
    (loop_lag_p99_us > limit).then(|| {
        format!(
            "worker event loop lagging: p99 {:.2} ms > {:.2} ms (a quarter of the latency p99, at least {:.0} ms)",
            loop_lag_p99_us as f64 / 1000.0,
            limit as f64 / 1000.0,
            LOOP_LAG_FLOOR_US as f64 / 1000.0
        )
    })
}

/// Whether a reason is the event-loop one, which a phase judges over its whole window (see
/// [`loop_lag_reason`]) rather than second by second.
pub fn is_loop_lag(reason: &str) -> bool {
    reason.starts_with("worker event loop")
}

/// Adds `new` reasons to a phase's list, the first of each kind only.
pub fn accumulate(phase: &mut Vec<String>, new: Vec<String>) {
    for r in new {
        // The kind is the text before the first figure ("schedule behind: p99 lag ").
        let kind = r.split(|c: char| c.is_ascii_digit()).next().unwrap_or(&r);
        if !phase.iter().any(|p| p.starts_with(kind)) {
            phase.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load() -> Load {
        Load {
            loadgen_cpu_pct: 50.0,
            workers: 2,
            schedule_lag_p99_us: 1_000,
            loop_lag_p99_us: 500,
            latency_p99_us: 4_000,
            poll_interval: Duration::from_secs(1),
        }
    }

    #[test]
    fn healthy_load_is_not_saturated() {
        assert!(reasons(&load()).is_empty());
    }

    #[test]
    fn each_rule_fires() {
        let cpu = Load {
            loadgen_cpu_pct: 185.0,
            ..load()
        };
        assert_eq!(reasons(&cpu).len(), 1);
        assert!(reasons(&cpu)[0].contains("CPU"));
        // 10 % of 1 s = 100 ms is the limit, not 5 ms.
        let lag_ok = Load {
            schedule_lag_p99_us: 90_000,
            ..load()
        };
        assert!(reasons(&lag_ok).is_empty());
        let lag = Load {
            schedule_lag_p99_us: 150_000,
            ..load()
        };
        assert!(reasons(&lag)[0].contains("schedule"));
        // Short intervals: the 5 ms floor applies.
        assert_eq!(schedule_lag_limit_us(Duration::from_millis(10)), 5_000);
        let lp = Load {
            loop_lag_p99_us: 8_000,
            ..load()
        };
        assert!(reasons(&lp)[0].contains("event loop"));
        assert!(is_loop_lag(&reasons(&lp)[0]));
    }

    #[test]
    fn loop_lag_is_judged_against_what_is_measured() {
        // A 4 ms p99 measured: anything over the 2 ms floor is too much.
        assert!(loop_lag_reason(2_500, 4_000).is_some());
        assert!(loop_lag_reason(1_500, 4_000).is_none());
        // A 40 ms p99: 8 ms of lag is a fifth of it, 12 ms is too much.
        assert!(loop_lag_reason(8_000, 40_000).is_none());
        assert!(loop_lag_reason(12_000, 40_000).is_some());
        // Nothing measured yet: the floor alone.
        assert!(loop_lag_reason(3_000, 0).is_some());
    }

    #[test]
    fn accumulate_keeps_one_reason_per_kind() {
        let mut phase = Vec::new();
        accumulate(
            &mut phase,
            reasons(&Load {
                loadgen_cpu_pct: 190.0,
                ..load()
            }),
        );
        accumulate(
            &mut phase,
            reasons(&Load {
                loadgen_cpu_pct: 195.0,
                ..load()
            }),
        );
        accumulate(
            &mut phase,
            reasons(&Load {
                loop_lag_p99_us: 9_000,
                ..load()
            }),
        );
        assert_eq!(phase.len(), 2, "{phase:?}");
    }
}
