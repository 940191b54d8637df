//! CPU time and resident memory of a process, read once a second for the server child and for
//! the load generator itself.
//!
//! CPU time is the kernel's nanosecond `sum_exec_runtime`, the counter `/proc/<pid>/schedstat`
//! shows, read through the process's CPU-time clock (`clock_getcpuclockid` + `clock_gettime`).
//! Not from `/proc/<pid>/schedstat` itself: that file is the main thread's alone (on a tokio
//! process almost nothing), and summing `task/*/schedstat` loses every thread that has exited.
//! The clock is the whole thread group, exited threads included. `/proc/<pid>/stat`'s
//! `utime + stime` is the fallback: whole process too, but in 10 ms ticks, which make a short
//! phase's CPU figure ±10 % noise.

use std::time::Duration;

use nix::time::{clock_getcpuclockid, clock_gettime, ClockId};
use nix::unistd::Pid;

/// Linux reports `utime`/`stime` in clock ticks of `USER_HZ`, which the kernel ABI fixes at 100 on
/// every architecture we run on (`sysconf(_SC_CLK_TCK)` returns it).
const USER_HZ: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcSample {
    /// User + system CPU time since the process started.
    pub cpu: Duration,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// False once the process has exited (a zombie waiting to be reaped).
    pub alive: bool,
}

/// Reads `pid` (`None`: this process). `None` when the process is gone or `/proc` is unavailable.
pub fn sample(pid: Option<u32>) -> Option<ProcSample> {
    let dir = match pid {
        Some(p) => format!("/proc/{p}"),
        None => "/proc/self".to_string(),
    };
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let ticks = parse_stat_cpu(&stat)?;
    Some(ProcSample {
        cpu: cpu_clock(pid).unwrap_or(ticks),
        rss_bytes: parse_status_rss(&status).unwrap_or(0),
        alive: !matches!(parse_stat_state(&stat), Some('Z' | 'X' | 'x')),
    })
}

/// The process's CPU-time clock, ns resolution (`None`: no such process, or no clock).
pub fn cpu_clock(pid: Option<u32>) -> Option<Duration> {
    let clock = match pid {
        None => ClockId::CLOCK_PROCESS_CPUTIME_ID,
        Some(p) => clock_getcpuclockid(Pid::from_raw(i32::try_from(p).ok()?)).ok()?,
    };
    let t = clock_gettime(clock).ok()?;
    Some(Duration::new(
        u64::try_from(t.tv_sec()).ok()?,
        u32::try_from(t.tv_nsec()).ok()?,
    ))
}

/// `utime + stime` from a `/proc/<pid>/stat` line. The command name (field 2) may contain spaces
/// and parentheses, so fields are counted from the last `)`.
fn parse_stat_cpu(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) as f64 / USER_HZ))
}

/// The state letter (field 3): `R`, `S`, … `Z` for a zombie.
fn parse_stat_state(stat: &str) -> Option<char> {
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// `VmRSS:   12345 kB` → bytes.
fn parse_status_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_names() {
        let stat =
            "1234 (my (odd) name) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 1 0 0";
        assert_eq!(parse_stat_cpu(stat), Some(Duration::from_secs(3)));
        assert_eq!(parse_stat_state(stat), Some('S'));
        assert_eq!(
            parse_status_rss("Name:\tx\nVmRSS:\t    2048 kB\n"),
            Some(2048 * 1024)
        );
    }

    /// The clock agrees with `/proc/<pid>/stat` (within its 10 ms ticks per thread) and, unlike
    /// it, sees CPU time far below a tick.
    #[test]
    fn cpu_clock_is_the_whole_process_in_nanoseconds() {
        // Burns 30 ms of the thread's own CPU time (not wall time: the machine may be busy).
        let burn = || {
            let own = || clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).unwrap();
            let start = Duration::from(own());
            let mut x = 0u64;
            while Duration::from(own()) - start < Duration::from_millis(30) {
                x = x.wrapping_mul(31).wrapping_add(7);
            }
            x
        };
        let before = cpu_clock(None).unwrap();
        // A thread that exits: its CPU time must still count.
        std::hint::black_box(std::thread::spawn(burn).join().unwrap());
        let after = cpu_clock(Some(std::process::id())).unwrap();
        assert!(
            after - before >= Duration::from_millis(30),
            "{before:?} → {after:?}"
        );
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let ticks = parse_stat_cpu(&stat).unwrap();
        assert!(
            after + Duration::from_millis(200) >= ticks
                && ticks + Duration::from_millis(200) >= after,
            "clock {after:?} vs stat {ticks:?}"
        );
        assert_ne!(after.subsec_nanos() % 10_000_000, 0, "ns resolution");
    }

    #[test]
    fn samples_this_process() {
        let s = sample(None).expect("/proc/self is readable");
        assert!(s.rss_bytes > 0);
        assert!(s.alive);
    }
}
