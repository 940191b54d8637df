//! The ticker's live source: a snapshot, then one transport client of the load generator from the
//! snapshot's cursor, reporting through a [`Sink`] that forwards everything to the screen as
//! [`ClientEvent`]s tagged with the client's generation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tickbench_loadgen::clients::{ErrorKind, SeqOutcome, Sink};
use tickbench_wire::{Gap, Snapshot, Tick, Transport};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::chain;
use crate::ticker::api::Api;

/// Wait between snapshot attempts when the server cannot give one.
pub const SNAPSHOT_RETRY: Duration = Duration::from_secs(2);

/// What the running client (and its snapshot fetch) tells the screen.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// The starting snapshot arrived.
    Snapshot(Snapshot),
    /// A tick, with the client clock (µs) read right after parsing it.
    Tick(Tick, u64),
    /// A request-based answer arrived (proof of life for the polling transports).
    Answer,
    /// The stream opened (`true`) or closed (`false`).
    Connected(bool),
    /// A client error (it backs off and resumes by itself).
    Error(String),
    /// The server declared lost ticks.
    GapNotice(Gap),
    /// The client re-established its connection after a failure or a server close.
    Reconnected,
    /// The snapshot could not be fetched: the client has not started.
    Fatal(String),
    /// The server's epoch changed: a new stream, the rows are no baseline any more.
    NewStream,
}

/// Unbounded because the viewer watches a human-sized watchlist and drains every frame; a bounded
/// channel that drops ticks would show wrong prices.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    generation: u64,
    tx: mpsc::UnboundedSender<(u64, ClientEvent)>,
}

impl ChannelSink {
    pub fn new(generation: u64, tx: mpsc::UnboundedSender<(u64, ClientEvent)>) -> Self {
        Self { generation, tx }
    }

    fn send(&self, ev: ClientEvent) {
        // The screen is gone when this fails; the client is being cancelled anyway.
        let _ = self.tx.send((self.generation, ev));
    }
}

impl Sink for ChannelSink {
    fn request(&self) {}
    fn answer(&self, _ticks: usize) {
        self.send(ClientEvent::Answer);
    }
    fn bytes(&self, _n: u64) {}
    fn tick(&self, tick: &Tick, recv_us: u64, _outcome: SeqOutcome) {
        self.send(ClientEvent::Tick(tick.clone(), recv_us));
    }
    fn gap_notice(&self, gap: Gap) {
        self.send(ClientEvent::GapNotice(gap));
    }
    fn error(&self, kind: ErrorKind) {
        let msg = match kind {
            ErrorKind::Connect => "connection refused".to_string(),
            ErrorKind::Timeout => "timed out".to_string(),
            ErrorKind::Status(s) => format!("HTTP {s}"),
            ErrorKind::Parse => "unparseable answer".to_string(),
            ErrorKind::Io => "connection broken".to_string(),
        };
        self.send(ClientEvent::Error(msg));
    }
    fn reconnect(&self) {
        self.send(ClientEvent::Reconnected);
    }
    fn schedule_lag(&self, _lag_us: u64) {}
    fn connected(&self, up: bool) {
        self.send(ClientEvent::Connected(up));
    }
    fn new_stream(&self, _old_epoch: u64, _new_epoch: u64) {
        self.send(ClientEvent::NewStream);
    }
}

/// Client settings from the command line that survive a transport switch.
#[derive(Debug, Clone)]
pub struct ClientOpts {
    pub poll_interval: Duration,
    pub action_rate: f64,
    pub longpoll_timeout: Duration,
}

/// Starts client generation `generation`: fetch a snapshot, report it, then run the transport
/// client from the snapshot's cursor until `cancel`. Returns at once; the work runs on a task.
pub fn start_client(
    api: &Api,
    transport: Transport,
    symbols: Vec<String>,
    opts: &ClientOpts,
    generation: u64,
    tx: mpsc::UnboundedSender<(u64, ClientEvent)>,
    cancel: CancellationToken,
) {
    let api = api.clone();
    let opts = opts.clone();
    tokio::spawn(async move {
        let sink = ChannelSink::new(generation, tx);
        // Without a snapshot there is no baseline: say why on screen and try again, rather than
        // leave the user looking at an empty table.
        let snap = loop {
            let snap = tokio::select! {
                _ = cancel.cancelled() => return,
                s = api.snapshot(&symbols) => s,
            };
            match snap {
                Ok(s) => break s,
                Err(e) => {
                    sink.send(ClientEvent::Fatal(format!("{} (retrying)", chain(&e))));
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(SNAPSHOT_RETRY) => {}
                    }
                }
            }
        };
        let known: HashMap<String, u64> = snap
            .quotes
            .iter()
            .map(|q| (q.sym.clone(), q.sseq))
            .collect();
        let mut cfg = tickbench_loadgen::clients::ClientConfig::new(api.base.clone(), transport);
        cfg.symbols = Some(Arc::from(symbols));
        cfg.poll_interval = opts.poll_interval;
        cfg.action_rate = opts.action_rate;
        cfg.longpoll_timeout = opts.longpoll_timeout;
        cfg.since = Some(snap.next);
        cfg.known_sseq = Some(Arc::new(known));
        cfg.seed = generation;
        sink.send(ClientEvent::Snapshot(snap));
        let http = tickbench_loadgen::clients::http_client(None);
        tickbench_loadgen::clients::run_client(cfg, http, sink, cancel).await;
    });
}
