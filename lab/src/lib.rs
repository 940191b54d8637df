//! tickbench experiments and regression gate. (Being built: see issue "Latency comparison experiments".)

/// `tickbench sweep` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepOpts {
    /// Experiment file (TOML).
    pub experiment: std::path::PathBuf,
}

/// `tickbench compare` options.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareOpts {
    /// Baseline summary.json (or results folder).
    pub baseline: std::path::PathBuf,
    /// Current summary.json (or results folder).
    pub current: std::path::PathBuf,
}

/// Runs an experiment matrix.
pub fn sweep(_opts: SweepOpts) -> anyhow::Result<()> {
    anyhow::bail!("tickbench sweep is not built yet")
}

/// Compares two runs; returns the process exit code (0 ok, 1 regression, 2 bad input).
pub fn compare(_opts: CompareOpts) -> u8 {
    eprintln!("tickbench compare is not built yet");
    2
}
