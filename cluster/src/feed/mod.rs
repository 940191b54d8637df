//! `tickbench feed`: the seeded market, run exactly as `tickbench serve` runs it (the same
//! producer, journal and startup replay), with a publisher in place of the transports that
//! copies every tick into the JetStream stream.
//!
//! A restarted feed finds the stream's market and epoch in its description, replays the market
//! from that epoch up to now (`tickbench_server::generator::replay`, as a restarted server
//! does) and continues publishing after the stream's newest tick: seq stays global and
//! gap-free across feed restarts. NATS going away only pauses the publisher.
//!
//! - [`stream`]: creating or adopting the stream.
//! - [`publish`]: the publisher.
//! - [`opts`]: the command's flags and process.

pub mod opts;
pub mod publish;
pub mod stream;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_nats::jetstream;
use tickbench_server::feed::nats::{connect, StreamMeta};
use tickbench_server::generator::{self, Producer};
use tickbench_server::journal::Journal;
use tickbench_server::metrics::Metrics;
use tickbench_server::Config;
use tickbench_wire::now_micros;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use publish::Publisher;
use stream::Wanted;

/// How long the publisher waits for JetStream to acknowledge a tick (async-nats's default: 5 s).
const ACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// What `tickbench feed` is asked for.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// `nats://HOST:PORT`
    pub url: String,
    /// The market; `None` = the stream's, or the defaults for a new stream.
    pub wanted: Wanted,
    /// Delete the stream first: a new market at a new epoch.
    pub fresh: bool,
}

impl FeedSettings {
    /// Continue (or create with the defaults) the stream at `url`.
    pub fn new(url: String) -> FeedSettings {
        FeedSettings {
            url,
            wanted: Wanted::default(),
            fresh: false,
        }
    }
}

/// A running feed. Dropping it stops the generator and the publisher.
pub struct Feed {
    meta: StreamMeta,
    journal: Arc<Journal>,
    acked: Arc<AtomicU64>,
    /// Seq of the first tick this feed published (the stream held those before).
    first: u64,
    stop: Arc<AtomicBool>,
    cancel: CancellationToken,
    generator: Option<std::thread::JoinHandle<()>>,
    publisher: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").field("meta", &self.meta).finish()
    }
}

impl Feed {
    /// Connects, opens the stream, replays the market up to now and starts publishing.
    pub async fn start(settings: FeedSettings) -> Result<Feed, Error> {
        let client = connect(&settings.url).await?;
        let mut js = jetstream::new(client);
        // Acks in flight when NATS goes away never come: a short wait resumes the publisher soon
        // after NATS is back. A timeout that was only slow costs a resync, never a tick.
        js.set_timeout(ACK_TIMEOUT);
        let opened = stream::open(
            &js,
            &settings.url,
            &settings.wanted,
            settings.fresh,
            now_micros(),
        )
        .await?;
        let meta = opened.meta;
        let config = Config {
            rate: meta.rate,
            seed: meta.seed,
            symbols: meta.symbols,
            retain: meta.retain,
            epoch_us: Some(meta.epoch_us),
            ..Config::default()
        };
        config.validate()?;
        let universe = config.universe();
        let journal = Arc::new(Journal::new(&universe, meta.retain, meta.epoch_us));
        let mut producer = Producer::new(config.source(&universe), universe, journal.clone());
        let epoch = meta.epoch_us;
        let (producer, replayed) = tokio::task::spawn_blocking(move || {
            let r = generator::replay(&mut producer, epoch, now_micros());
            (producer, r)
        })
        .await
        .map_err(tickbench_server::Error::Replay)?;
        let cursor = opened.last + 1;
        if cursor < journal.first_seq() {
            tracing::warn!(
                from = cursor,
                to = journal.first_seq() - 1,
                "the feed was down longer than the retention: these ticks are lost"
            );
        }
        tracing::info!(
            created = opened.created,
            from = cursor,
            replayed = replayed.ticks,
            epoch_us = meta.epoch_us,
            "feeding NATS"
        );
        let acked = Arc::new(AtomicU64::new(opened.last));
        let cancel = CancellationToken::new();
        let publisher = Publisher {
            js,
            stream: opened.stream,
            journal: journal.clone(),
            acked: acked.clone(),
        };
        let publisher = tokio::spawn(publisher.run(cursor, cancel.clone()));
        let stop = Arc::new(AtomicBool::new(false));
        let generator = if config.scheduled() {
            Some(
                generator::spawn(
                    Arc::new(Mutex::new(producer)),
                    Arc::new(Metrics::default()),
                    stop.clone(),
                    epoch,
                    replayed.pending,
                )
                .map_err(tickbench_server::Error::Generator)?,
            )
        } else {
            None
        };
        Ok(Feed {
            meta,
            journal,
            acked,
            first: cursor,
            stop,
            cancel,
            generator,
            publisher: Some(publisher),
        })
    }

    /// The market the stream carries.
    pub fn meta(&self) -> StreamMeta {
        self.meta
    }

    /// Seq of the newest tick JetStream acknowledged.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Acquire)
    }

    /// Seq of the first tick this feed published.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// Seq of the newest tick the market produced.
    pub fn produced(&self) -> u64 {
        self.journal.next_seq() - 1
    }

    /// Stops the market and the publisher (what was not acknowledged is published by the next
    /// feed on this stream).
    pub async fn shutdown(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.cancel.cancel();
        if let Some(p) = self.publisher.take() {
            let _ = p.await;
        }
        if let Some(g) = self.generator.take() {
            let _ = tokio::task::spawn_blocking(move || g.join()).await;
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.cancel.cancel();
    }
}
