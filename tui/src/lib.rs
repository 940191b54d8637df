//! tickbench terminal UI. (Being built: see issue "Terminal UI".)

/// `tickbench view` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewOpts {
    /// Server URL; without it an embedded server is started.
    pub url: Option<String>,
}

/// `tickbench show` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowOpts {
    /// Results folders (default `results/latest`); two show side by side with deltas.
    pub runs: Vec<std::path::PathBuf>,
}

/// Terminal stock ticker.
pub fn view(_opts: ViewOpts) -> anyhow::Result<()> {
    anyhow::bail!("tickbench view is not built yet")
}

/// Saved-results viewer.
pub fn show(_opts: ShowOpts) -> anyhow::Result<()> {
    anyhow::bail!("tickbench show is not built yet")
}

/// Live run dashboard: runs the comparison and shows it on the terminal.
pub fn dashboard(opts: tickbench_loadgen::RunOpts) -> anyhow::Result<()> {
    tickbench_loadgen::run(opts)
}
