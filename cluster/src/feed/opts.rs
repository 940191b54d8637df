//! `tickbench feed`: its flags ([`FeedOpts`]) and its process ([`run_feed`]): a feed on its own
//! runtime until SIGINT/SIGTERM.

use std::io::Write as _;

use super::stream::Wanted;
use super::{Feed, FeedSettings};
use crate::error::Error;

/// `tickbench feed`: publish the seeded market to NATS JetStream for edge servers
/// (`tickbench serve --feed nats://...`).
#[derive(Debug, Clone, clap::Args)]
pub struct FeedOpts {
    /// The NATS server (with JetStream enabled).
    #[arg(
        long,
        value_name = "nats://HOST:PORT",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats: String,
    /// Aggregate tick rate, ticks/s (new stream default 100; a running stream keeps its own).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Simulation seed (new stream default 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of symbols (new stream default 500).
    #[arg(long)]
    pub symbols: Option<usize>,
    /// Ticks the stream (and the feed's journal) retain (new stream default 1,000,000); edges
    /// retain as many.
    #[arg(long)]
    pub retain: Option<usize>,
    /// Delete the stream first and start a new market at a new epoch (otherwise a feed continues
    /// the stream it finds, after its newest tick).
    #[arg(long)]
    pub fresh: bool,
}

impl FeedOpts {
    pub fn settings(&self) -> FeedSettings {
        FeedSettings {
            url: self.nats.clone(),
            wanted: Wanted {
                seed: self.seed,
                symbols: self.symbols,
                rate: self.rate,
                retain: self.retain,
            },
            fresh: self.fresh,
        }
    }
}

/// Runs the feed until SIGINT/SIGTERM. Prints `feeding nats://... from seq N` first on stdout.
pub fn run_feed(opts: FeedOpts) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    rt.block_on(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).map_err(Error::Signal)?;
        let mut int = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
        let feed = Feed::start(opts.settings()).await?;
        let m = feed.meta();
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "feeding {} from seq {} (seed {}, {} symbols, {} ticks/s, retain {}, epoch-us {})",
                opts.nats,
                feed.first(),
                m.seed,
                m.symbols,
                m.rate,
                m.retain,
                m.epoch_us
            )
            .and_then(|()| out.flush());
        }
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!(
            acked = feed.acked(),
            produced = feed.produced(),
            "feed stopping"
        );
        feed.shutdown().await;
        Ok(())
    })
}
