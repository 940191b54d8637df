//! CPU steal per phase, from `/proc/stat`: the share of the machine's CPU time the hypervisor
//! gave to other guests. One stall of a few tens of ms decides a short phase's p99, so the
//! summary records each phase's steal and flags phases where it was high
//! (`TransportSummary::high_steal`), instead of a gate reading a host hiccup as a regression.
//!
//! The same counters give the machine's busy time, and so the **foreign CPU** of a phase: the
//! share of the machine's CPU that neither the server nor the load generator used (other
//! processes: a build, another benchmark). Steal is the hypervisor starving both processes;
//! foreign CPU is a neighbour on the same kernel doing it, which neither steal nor the event-loop
//! probe sees when it is the server that waits for a core.

/// The key, in a phase's `extra` map, of its foreign CPU ([`StealWindow::foreign_pct`]).
pub const FOREIGN_CPU_KEY: &str = "foreign_cpu_pct";
/// Foreign CPU (percent of the machine) from which a phase's latencies describe the machine's
/// other work as much as the server: `compare` turns its latency regressions into warnings. A
/// quarter of the machine: on 2 cores, half a core busy elsewhere for the whole phase.
pub const HIGH_FOREIGN_PCT: f64 = 25.0;

/// The machine-wide CPU counters of `/proc/stat`'s `cpu` line, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// `steal`.
    pub steal: u64,
    /// user + nice + system + idle + iowait + irq + softirq + steal (guest time is already in
    /// user and nice).
    pub total: u64,
    /// idle + iowait: the time no task ran.
    pub idle: u64,
    /// CPUs counted (`cpuN` lines): `total` is summed over them.
    pub cpus: u32,
}

/// Reads `/proc/stat`; `None` where it is unavailable.
pub fn read() -> Option<CpuTimes> {
    parse(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The `cpu ` line of a `/proc/stat` text.
pub fn parse(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // Kernels before 2.6.11 had no steal field: then there is nothing to report.
    let steal = *v.get(7)?;
    let cpus = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count() as u32;
    Some(CpuTimes {
        steal,
        total: v.iter().sum(),
        idle: v[3] + v[4],
        cpus: cpus.max(1),
    })
}

/// Steal summed over the seconds a phase measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct StealWindow {
    steal: u64,
    total: u64,
    idle: u64,
    cpus: u32,
}

impl StealWindow {
    /// Adds the span between two readings (either missing: nothing).
    pub fn add(&mut self, from: Option<CpuTimes>, to: Option<CpuTimes>) {
        if let (Some(a), Some(b)) = (from, to) {
            self.steal += b.steal.saturating_sub(a.steal);
            self.total += b.total.saturating_sub(a.total);
            self.idle += b.idle.saturating_sub(a.idle);
            self.cpus = b.cpus;
        }
    }

    /// Steal as a percentage of all CPU time in the window; `None` when nothing was read.
    pub fn pct(&self) -> Option<f64> {
        (self.total > 0).then(|| 100.0 * self.steal as f64 / self.total as f64)
    }

    /// The share of the machine's CPU (all its cores, percent) that other processes used over
    /// the window: busy time (neither idle nor stolen) less `ours_s` CPU-seconds of the server
    /// and the load generator, against `secs` of wall time. `None` when nothing was read.
    pub fn foreign_pct(&self, secs: f64, ours_s: f64) -> Option<f64> {
        if self.total == 0 || secs <= 0.0 {
            return None;
        }
        let busy = self.total.saturating_sub(self.idle + self.steal) as f64 / self.total as f64;
        let ours = ours_s / (secs * f64::from(self.cpus.max(1)));
        Some((100.0 * (busy - ours)).clamp(0.0, 100.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_steal_column_and_sums_a_window() {
        let a = parse("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 1 2 3\n").unwrap();
        assert_eq!(
            a,
            CpuTimes {
                steal: 35,
                total: 1000,
                idle: 810,
                cpus: 1,
            }
        );
        let b = parse("cpu  150 0 60 1700 10 0 5 75 0 0\n").unwrap();
        let mut w = StealWindow::default();
        assert_eq!(w.pct(), None);
        w.add(Some(a), Some(b));
        w.add(None, Some(b));
        assert_eq!(w.pct(), Some(4.0));
        assert_eq!(parse("cpu  1 2 3\n"), None, "no steal column");
        assert!(read().is_some_and(|t| t.total > 0));
    }

    #[test]
    fn foreign_cpu_is_the_busy_time_that_was_not_ours() {
        // Two CPUs, 1 s: 200 ticks, 100 of them busy (50 %), none stolen.
        let a = parse("cpu  0 0 0 0 0 0 0 0 0 0\ncpu0\ncpu1\n").unwrap();
        let b = parse("cpu  80 0 20 100 0 0 0 0 0 0\ncpu0\ncpu1\n").unwrap();
        assert_eq!(b.cpus, 2);
        let mut w = StealWindow::default();
        assert_eq!(w.foreign_pct(1.0, 0.0), None);
        w.add(Some(a), Some(b));
        // Our processes used 0.4 CPU-s of the 2 available: the other 0.6 was someone else's.
        assert!((w.foreign_pct(1.0, 0.4).unwrap() - 30.0).abs() < 1e-9);
        assert_eq!(w.foreign_pct(1.0, 1.5), Some(0.0), "never below 0");
    }
}
