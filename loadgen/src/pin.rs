//! `--pin`: the embedded server and the load generator on separate cores, every thread of each
//! (`sched_setaffinity`), as latency benchmarks commonly run. Unpinned, the two processes share
//! every core, and a burst of the server's fan-out delays the load generator's reads of the same
//! ticks (and the other way round), which shows up as event-loop lag and run-to-run spread.

use std::io;

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

/// The cores this process may run on.
pub fn allowed() -> io::Result<Vec<usize>> {
    let set = sched_getaffinity(Pid::from_raw(0)).map_err(io::Error::from)?;
    Ok((0..CpuSet::count())
        .filter(|&c| set.is_set(c).unwrap_or(false))
        .collect())
}

/// The server's cores and the load generator's: the first half (rounded down, at least one) and
/// the rest. `None` with fewer than two cores, where there is nothing to separate.
pub fn split(allowed: &[usize]) -> Option<(Vec<usize>, Vec<usize>)> {
    if allowed.len() < 2 {
        return None;
    }
    let n = (allowed.len() / 2).max(1);
    Some((allowed[..n].to_vec(), allowed[n..].to_vec()))
}

/// Pins every thread of process `pid` (`None`: this process) to `cpus`; threads started later
/// inherit the affinity of the thread that starts them. Returns how many threads were pinned.
/// A thread that exits meanwhile is skipped.
pub fn pin_process(pid: Option<u32>, cpus: &[usize]) -> io::Result<usize> {
    let mut set = CpuSet::new();
    for &c in cpus {
        set.set(c).map_err(io::Error::from)?;
    }
    let dir = match pid {
        Some(p) => format!("/proc/{p}/task"),
        None => "/proc/self/task".to_string(),
    };
    let mut pinned = 0;
    for entry in std::fs::read_dir(dir)? {
        let Some(tid) = entry?
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        match sched_setaffinity(Pid::from_raw(tid), &set) {
            Ok(()) => pinned += 1,
            Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(pinned)
}

/// `0-1,3` style list, for logs and the summary's configuration.
pub fn describe(cpus: &[usize]) -> String {
    cpus.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves() {
        assert_eq!(split(&[0]), None);
        assert_eq!(split(&[0, 1]), Some((vec![0], vec![1])));
        assert_eq!(split(&[0, 1, 2]), Some((vec![0], vec![1, 2])));
        assert_eq!(split(&[2, 3, 4, 5]), Some((vec![2, 3], vec![4, 5])));
    }

    /// Pins a child process (every thread) and reads the affinity back from `/proc`.
    #[test]
    fn pins_every_thread_of_a_child() {
        let all = allowed().unwrap();
        assert!(!all.is_empty());
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let one = [all[all.len() - 1]];
        assert_eq!(pin_process(Some(child.id()), &one).unwrap(), 1);
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let list = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_string();
        assert_eq!(list, one[0].to_string());
        let _ = child.kill();
        let _ = child.wait();
    }
}
