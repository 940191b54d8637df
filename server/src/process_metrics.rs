//! The standard `process_*` metrics of Prometheus's client libraries (CPU, memory, descriptors,
//! threads, start time), read from `/proc/self` at each scrape, so any Prometheus dashboard, and
//! `tickbench run --target` when it does not know the server's pid, can read them.

use std::fmt::Write as _;

/// Linux's `USER_HZ`, the unit of `/proc/<pid>/stat`'s times (fixed at 100 by the kernel ABI).
const USER_HZ: f64 = 100.0;

/// Appends the `process_*` families to `out`. A figure `/proc` does not give is left out.
pub fn render(out: &mut String, _uptime_s: f64) {
    let mut one = |name: &str, help: &str, kind: &str, v: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    };
    if let Ok(t) = nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID) {
        let secs = t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9;
        one(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            "counter",
            format!("{secs:.6}"),
        );
    }
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields = stat_fields(&stat);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kb) = status_kb(&status, "VmRSS:") {
        one(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            "gauge",
            (kb * 1024).to_string(),
        );
    }
    if let Some(vsize) = fields.get(20).and_then(|v| v.parse::<u64>().ok()) {
        one(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            "gauge",
            vsize.to_string(),
        );
    }
    if let Some(threads) = fields.get(17).and_then(|v| v.parse::<u64>().ok()) {
        one(
            "process_threads",
            "Number of OS threads in the process.",
            "gauge",
            threads.to_string(),
        );
    }
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| boot_time(&s));
    if let (Some(boot), Some(start)) = (boot, fields.get(19).and_then(|v| v.parse::<u64>().ok())) {
        one(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            "gauge",
            format!("{:.2}", boot as f64 + start as f64 / USER_HZ),
        );
    }
    if let Ok(rd) = std::fs::read_dir("/proc/self/fd") {
        one(
            "process_open_fds",
            "Number of open file descriptors.",
            "gauge",
            rd.count().to_string(),
        );
    }
    if let Ok((soft, _)) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    {
        one(
            "process_max_fds",
            "Maximum number of open file descriptors.",
            "gauge",
            soft.to_string(),
        );
    }
}

/// The fields of a `/proc/<pid>/stat` line after the command name (which may hold spaces and
/// parentheses): index 0 is the state (field 3 of proc(5)), so field N is at N − 3.
fn stat_fields(stat: &str) -> Vec<&str> {
    stat.rfind(')')
        .map(|i| stat[i + 1..].split_whitespace().collect())
        .unwrap_or_default()
}

/// `btime` of `/proc/stat`: boot time, seconds since the epoch.
fn boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// A `Key:   123 kB` line of `/proc/<pid>/status`, in kB.
fn status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_family_is_rendered() {
        let mut s = String::new();
        render(&mut s, 1.0);
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_virtual_memory_bytes",
            "process_threads",
            "process_start_time_seconds",
            "process_open_fds",
            "process_max_fds",
        ] {
            let line = s
                .lines()
                .find(|l| l.starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} missing:\n{s}"));
            let v: f64 = line[name.len() + 1..].parse().unwrap();
            assert!(v > 0.0, "{line}");
        }
        assert!(s.contains("# TYPE process_cpu_seconds_total counter"));
    }

    #[test]
    fn parses_stat_and_boot_time() {
        let stat = "1 (a (b) c) S 0 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 7 0 1234 5000 99";
        let f = stat_fields(stat);
        assert_eq!(f[0], "S");
        assert_eq!(f[17], "7");
        assert_eq!(f[19], "1234");
        assert_eq!(f[20], "5000");
        assert_eq!(
            status_kb("Name:\tx\nVmRSS:\t  2048 kB\n", "VmRSS:"),
            Some(2048)
        );
        assert_eq!(
            boot_time("cpu 1 2\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }
}
