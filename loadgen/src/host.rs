//! What `summary.json` records about the machine a run measured on: cores, CPU model, kernel, and
//! where the CPU-time figures come from.

use tickbench_wire::Host;

/// The load generator's machine, from `/proc` (empty strings where a file is missing).
pub fn detect() -> Host {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    Host {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        cpu_model: cpu_model(&cpuinfo),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        cpu_time_source: match crate::procstat::cpu_clock(None) {
            Some(_) => "process-clock",
            None => "stat-ticks",
        }
        .to_string(),
    }
}

/// The first `model name` line of `/proc/cpuinfo` (x86), else `Model` / `Hardware` (ARM).
fn cpu_model(cpuinfo: &str) -> String {
    ["model name", "Model", "Hardware"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key).then(|| v.trim().to_string())
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_model_line() {
        let x86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.00GHz\n";
        assert_eq!(cpu_model(x86), "Intel(R) Xeon(R) CPU @ 2.00GHz");
        assert_eq!(
            cpu_model("processor : 0\nModel : Raspberry Pi 4\n"),
            "Raspberry Pi 4"
        );
        assert_eq!(cpu_model(""), "");
    }

    #[test]
    fn this_machine() {
        let h = detect();
        assert!(h.cores >= 1);
        assert!(!h.kernel.is_empty());
        assert_eq!(h.cpu_time_source, "process-clock");
    }
}
