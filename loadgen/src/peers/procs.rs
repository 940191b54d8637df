//! A peer's processes from `/proc`: the tree under its root process (nginx's master and workers,
//! Pushpin's runner and its services), their CPU and RSS summed, plus the CPU of threads of this
//! process that serve it (Pushpin's GRIP backend), so server CPU per delivery and RSS per
//! subscriber mean the same for every target.

use std::time::Duration;

use crate::procstat::{self, ProcSample};

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    procstat::sample(Some(pid)).is_some_and(|s| s.alive)
}

/// `root` and all its descendants, root first.
pub fn tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(ppid) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parent_of(&s))
            {
                parents.push((pid, ppid));
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// Field 4 (ppid) of a `/proc/<pid>/stat` line.
fn parent_of(stat: &str) -> Option<u32> {
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The tree under `root` summed (CPU and RSS), plus the CPU of `threads` of this process;
/// `alive` is the root's. `None` when the root is gone.
pub fn sample_tree(root: u32, threads: &[u32]) -> Option<ProcSample> {
    let first = procstat::sample(Some(root))?;
    let mut sum = first;
    for pid in tree(root).into_iter().skip(1) {
        if let Some(s) = procstat::sample(Some(pid)) {
            sum.cpu += s.cpu;
            sum.rss_bytes += s.rss_bytes;
        }
    }
    for tid in threads {
        sum.cpu += thread_cpu(*tid).unwrap_or_default();
    }
    Some(sum)
}

/// CPU time of thread `tid` of this process.
fn thread_cpu(tid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_tree() {
        let me = std::process::id();
        assert_eq!(tree(me)[0], me);
        let s = sample_tree(me, &[]).unwrap();
        assert!(s.rss_bytes > 0 && s.alive);
        assert_eq!(parent_of("5 (a b) S 77 1"), Some(77));
    }
}
