//! tickbench load generator. (Being built: see issue "Load generator".)

pub mod clients;
pub mod progress;

/// `tickbench run` options.
#[derive(Debug, Clone, clap::Args)]
pub struct RunOpts {
    /// Server to measure; without it an embedded server is started as a child process.
    #[arg(long)]
    pub target: Option<String>,
    /// Print plain progress and the final table instead of the live dashboard.
    #[arg(long)]
    pub no_tui: bool,
}

/// Runs the comparison without a TUI.
pub fn run(_opts: RunOpts) -> anyhow::Result<()> {
    anyhow::bail!("tickbench run is not built yet")
}
