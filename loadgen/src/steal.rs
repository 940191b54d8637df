//! CPU steal per phase, from `/proc/stat`: the share of the machine's CPU time the hypervisor
//! gave to other guests. One stall of a few tens of ms decides a short phase's p99, so the
//! summary records each phase's steal and flags phases where it was high
//! (`TransportSummary::high_steal`), instead of a gate reading a host hiccup as a regression.

/// The machine-wide CPU counters of `/proc/stat`'s `cpu` line, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// `steal`.
    pub steal: u64,
    /// user + nice + system + idle + iowait + irq + softirq + steal (guest time is already in
    /// user and nice).
    pub total: u64,
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
    Some(CpuTimes {
        steal,
        total: v.iter().sum(),
    })
}

/// Steal summed over the seconds a phase measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct StealWindow {
    steal: u64,
    total: u64,
}

impl StealWindow {
    /// Adds the span between two readings (either missing: nothing).
    pub fn add(&mut self, from: Option<CpuTimes>, to: Option<CpuTimes>) {
        if let (Some(a), Some(b)) = (from, to) {
            self.steal += b.steal.saturating_sub(a.steal);
            self.total += b.total.saturating_sub(a.total);
        }
    }

    /// Steal as a percentage of all CPU time in the window; `None` when nothing was read.
    pub fn pct(&self) -> Option<f64> {
        (self.total > 0).then(|| 100.0 * self.steal as f64 / self.total as f64)
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
                total: 1000
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
}
