//! tickbench quote server. (Being built: see issue "Quote server".)

/// `tickbench serve` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeOpts {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
}

/// Runs the server until SIGINT/SIGTERM. Prints `listening on http://ADDR` as the first stdout line.
pub fn run(_opts: ServeOpts) -> anyhow::Result<()> {
    anyhow::bail!("tickbench serve is not built yet")
}
