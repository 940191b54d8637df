//! A NATS JetStream stream as the tick source of an edge (`tickbench serve --feed nats://...`):
//! the stream's layout shared with the publisher (`tickbench feed`, in the cluster crate), and the
//! consumer that copies the stream into the edge's journal.
//!
//! # The stream
//! One stream, [`STREAM`], with one subject per symbol (`ticks.<SYM>`), retaining at most the
//! feed's `--retain` ticks (the oldest are discarded, as the journal evicts them). Each message is
//! one tick's JSON exactly as the journal holds it (same `seq`, `sseq` and scheduled `ts`). The
//! publisher sends `Nats-Msg-Id: <seq>` (JetStream drops a re-sent tick) and
//! `Nats-Expected-Last-Sequence: <seq − 1>` (JetStream refuses a tick that would skip one), so the
//! stream sequence of every message *is* its tick `seq`: an edge resumes at the stream sequence
//! after the last tick it holds, and every edge holds identical seqs. The market's parameters
//! (seed, symbols, rate, epoch) are the stream's description ([`StreamMeta`]): an edge builds the
//! same symbol universe from them without being told. Debian's nats-server 2.9 has no stream
//! metadata field, hence the description.
//!
//! # The edge's consumer
//! [`Edge::connect`] reads the stream's description and bounds; [`Edge::start`] fills the journal
//! from the oldest retained message up to the newest one seen at connect time (before the server
//! accepts connections, as the generator's replay does), then a task follows the stream with an
//! ordered push consumer. When NATS goes away the edge keeps serving what it holds; the client
//! library reconnects, and the task re-creates its consumer from `journal.next_seq()`, so nothing
//! is skipped and nothing is appended twice. If the stream no longer holds the next tick the edge
//! needs (it was cut off longer than the retention), the journal restarts at the oldest one the
//! stream holds and every reader behind it gets the usual explicit gap.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream::Stream};
use bytes::Bytes;
use futures_util::{FutureExt as _, StreamExt as _};
use tokio_util::sync::CancellationToken;

use crate::journal::{Encoded, Journal};
use crate::market::{RawTick, Universe};
use crate::metrics::Metrics;

/// The JetStream stream every feed publishes to and every edge reads.
pub const STREAM: &str = "TICKBENCH";
/// Subjects are `ticks.<SYM>`.
pub const SUBJECT_PREFIX: &str = "ticks";
/// What the stream's description starts with, before the [`StreamMeta`] JSON.
const DESCRIPTION_PREFIX: &str = "tickbench feed ";
/// Most messages appended to the journal at once.
const MAX_BATCH: usize = 4096;
/// How long connecting may take, and the edge's initial catch-up may go without progress.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Wait between attempts to re-create the consumer while NATS is away.
const RETRY: Duration = Duration::from_millis(250);

/// The subject of a symbol's ticks.
pub fn subject(sym: &str) -> String {
    format!("{SUBJECT_PREFIX}.{sym}")
}

/// Why the NATS feed failed.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot connect to NATS at {url}: {why}")]
    Connect { url: String, why: String },
    #[error("NATS JetStream at {url}: {why}")]
    Stream { url: String, why: String },
}

/// The market behind a stream, kept as its description: what an edge needs to name the same
/// symbols and report the same rate and epoch.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StreamMeta {
    pub seed: u64,
    pub symbols: usize,
    /// Ticks/s.
    pub rate: f64,
    /// The feed's time origin, µs since the Unix epoch.
    pub epoch_us: u64,
    /// The stream's (and the feed's journal's) retention, ticks.
    pub retain: usize,
}

impl StreamMeta {
    /// The stream description that carries this.
    pub fn description(&self) -> String {
        format!(
            "{DESCRIPTION_PREFIX}{}",
            serde_json::to_string(self).unwrap_or_default()
        )
    }

    /// Reads a stream description written by [`StreamMeta::description`].
    pub fn parse(description: &str) -> Option<StreamMeta> {
        serde_json::from_str(description.strip_prefix(DESCRIPTION_PREFIX)?).ok()
    }
}

/// Connects to `url` with a bounded wait: the client reconnects by itself afterwards, forever.
pub async fn connect(url: &str) -> Result<async_nats::Client, NatsError> {
    async_nats::ConnectOptions::new()
        .connection_timeout(CONNECT_TIMEOUT)
        .name("tickbench")
        .connect(url)
        .await
        .map_err(|e| NatsError::Connect {
            url: url.to_string(),
            why: e.to_string(),
        })
}

/// An edge connected to the stream, not yet consuming.
pub struct Edge {
    url: String,
    client: async_nats::Client,
    stream: Stream,
    /// The market behind the stream.
    pub meta: StreamMeta,
    /// The stream's newest sequence at connect time: [`Edge::start`] catches up to it.
    last: u64,
}

impl std::fmt::Debug for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edge")
            .field("url", &self.url)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl Edge {
    /// Connects to NATS at `url` and reads the stream's description and bounds. Fails when NATS
    /// is unreachable or no feed has created the stream yet.
    pub async fn connect(url: &str) -> Result<Edge, NatsError> {
        let client = connect(url).await?;
        let err = |why: String| NatsError::Stream {
            url: url.to_string(),
            why,
        };
        let js = jetstream::new(client.clone());
        let mut stream = js.get_stream(STREAM).await.map_err(|e| {
            err(format!(
                "no stream {STREAM} ({e}); start `tickbench feed --nats {url}` first"
            ))
        })?;
        let info = stream.info().await.map_err(|e| err(e.to_string()))?;
        let meta = info
            .config
            .description
            .as_deref()
            .and_then(StreamMeta::parse)
            .ok_or_else(|| {
                err(format!(
                    "stream {STREAM} was not created by `tickbench feed`"
                ))
            })?;
        let last = info.state.last_sequence;
        Ok(Edge {
            url: url.to_string(),
            client,
            stream,
            meta,
            last,
        })
    }

    /// Fills `journal` up to the stream's newest tick at connect time, then follows the stream
    /// in a task until `cancel`. `universe` must be the one [`StreamMeta`] names.
    pub async fn start(
        self,
        journal: Arc<Journal>,
        universe: Arc<Universe>,
        metrics: Arc<Metrics>,
        cancel: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, NatsError> {
        let mut follower = Follower {
            client: self.client,
            stream: self.stream,
            journal,
            universe,
            metrics,
            batch: Vec::with_capacity(MAX_BATCH),
        };
        let url = self.url;
        let target = self.last;
        // However long the stream, catching up only fails when it stops making progress.
        let mut progress = Instant::now();
        while follower.journal.next_seq() <= target {
            if progress.elapsed() > CONNECT_TIMEOUT {
                return Err(NatsError::Stream {
                    url,
                    why: format!(
                        "catching up to seq {target} stalled for {CONNECT_TIMEOUT:?} at {}",
                        follower.journal.next_seq()
                    ),
                });
            }
            let Ok(Ok(mut msgs)) =
                tokio::time::timeout(CONNECT_TIMEOUT, follower.subscribe()).await
            else {
                tokio::time::sleep(RETRY).await;
                continue;
            };
            while follower.journal.next_seq() <= target {
                match tokio::time::timeout(CONNECT_TIMEOUT, follower.pump(&mut msgs)).await {
                    Ok(true) => progress = Instant::now(),
                    Ok(false) | Err(_) => break,
                }
            }
        }
        tracing::info!(
            next = follower.journal.next_seq(),
            "caught up with the NATS feed"
        );
        Ok(tokio::spawn(async move {
            tokio::select! {
                () = follower.follow() => {}
                () = cancel.cancelled() => {}
            }
        }))
    }
}

/// The consumer loop's state.
struct Follower {
    client: async_nats::Client,
    stream: Stream,
    journal: Arc<Journal>,
    universe: Arc<Universe>,
    metrics: Arc<Metrics>,
    batch: Vec<Encoded>,
}

type Messages = consumer::push::Ordered;

impl Follower {
    /// An ordered consumer from the tick after the journal's newest (the stream's oldest when
    /// that one is gone: the journal then restarts there, see [`Follower::append`]).
    async fn subscribe(&self) -> Result<Messages, String> {
        let start = self.journal.next_seq();
        let consumer = self
            .stream
            .create_consumer(consumer::push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        consumer.messages().await.map_err(|e| e.to_string())
    }

    /// Follows the stream for good, re-subscribing after every failure.
    async fn follow(mut self) {
        loop {
            match self.subscribe().await {
                Ok(mut msgs) => while self.pump(&mut msgs).await {},
                Err(e) => tracing::debug!("NATS consumer: {e}; retrying"),
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    /// Waits for one message, takes whatever else is already there (up to a batch) and appends
    /// them. False when the subscription failed or ended: the caller subscribes again.
    async fn pump(&mut self, msgs: &mut Messages) -> bool {
        let mut ok = match msgs.next().await {
            Some(Ok(m)) => self.take(&m.message.payload),
            Some(Err(e)) => {
                tracing::warn!("NATS consumer: {e}");
                false
            }
            None => false,
        };
        while ok && self.batch.len() < MAX_BATCH {
            match msgs.next().now_or_never() {
                Some(Some(Ok(m))) => ok = self.take(&m.message.payload),
                Some(Some(Err(e))) => {
                    tracing::warn!("NATS consumer: {e}");
                    ok = false;
                }
                Some(None) => ok = false,
                None => break,
            }
        }
        self.flush();
        ok
    }

    /// Decodes one message into the batch. False on a message that is not one of our ticks
    /// (logged; the subscription is re-created from the journal's next seq).
    fn take(&mut self, payload: &Bytes) -> bool {
        match decode(&self.universe, payload) {
            Ok(t) => {
                let next = self
                    .batch
                    .last()
                    .map_or(self.journal.next_seq(), |l| l.seq + 1);
                if t.seq < next {
                    // Already held (a consumer re-created over ticks in flight).
                    return true;
                }
                if t.seq > next {
                    self.flush();
                    tracing::warn!(
                        from = next,
                        to = t.seq - 1,
                        "the NATS stream no longer holds these ticks; readers behind get a gap"
                    );
                    self.journal.restart_at(t.seq);
                }
                self.batch.push(t);
                true
            }
            Err(e) => {
                tracing::warn!("NATS message is not a tick: {e}");
                false
            }
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        self.journal.append(&self.batch);
        if let Some(last) = self.batch.last() {
            let lag = tickbench_wire::now_micros().saturating_sub(last.ts);
            self.metrics.record_publish(self.batch.len(), lag);
        }
        self.batch.clear();
    }
}

/// A message's tick, its JSON kept as it came (it is what the feed's journal encoded).
fn decode(universe: &Universe, payload: &Bytes) -> Result<Encoded, String> {
    let t: tickbench_wire::Tick = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    let sym = universe
        .lookup(&t.sym)
        .ok_or_else(|| format!("unknown symbol {}", t.sym))?;
    let cents = |x: f64| (x * 100.0).round() as u64;
    Ok(Encoded {
        seq: t.seq,
        sseq: t.sseq,
        ts: t.ts,
        raw: RawTick {
            sym,
            bid_c: cents(t.bid),
            ask_c: cents(t.ask),
            last_c: cents(t.last),
            size: t.size,
        },
        json: payload.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips_through_the_description() {
        let m = StreamMeta {
            seed: 7,
            symbols: 50,
            rate: 200.0,
            epoch_us: 1_795_397_385_123_456,
            retain: 1000,
        };
        assert_eq!(StreamMeta::parse(&m.description()), Some(m));
        assert_eq!(StreamMeta::parse("someone else's stream"), None);
    }

    #[test]
    fn decodes_the_journal_encoding_exactly() {
        let universe = Universe::new(5, 1);
        let raw = RawTick {
            sym: 3,
            bid_c: 18921,
            ask_c: 18923,
            last_c: 18920,
            size: 300,
        };
        let mut buf = Vec::new();
        crate::journal::encode_tick(&mut buf, 42, 7, universe.name(3), &raw, 99);
        let e = decode(&universe, &Bytes::from(buf.clone())).unwrap();
        assert_eq!((e.seq, e.sseq, e.ts, e.raw), (42, 7, 99, raw));
        assert_eq!(&e.json[..], &buf[..]);
        assert!(decode(&universe, &Bytes::from_static(b"{}")).is_err());
    }
}
