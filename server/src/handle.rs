//! [`ServerHandle`]: a server running in this process, started by [`spawn`] (tests, the embedded
//! server of `tickbench run`) and stopped by [`ServerHandle::shutdown`] or by dropping it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tickbench_wire::now_micros;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::app;
use crate::config::Config;
use crate::error::Error;
use crate::feed::nats::Edge;
use crate::generator::{self, Producer};
use crate::journal::Journal;
use crate::serve;
use crate::state::AppState;
use crate::tls::Tls;

/// A running server. Dropping it stops the generator and cancels the server without waiting;
/// [`ServerHandle::shutdown`] does the same gracefully.
pub struct ServerHandle {
    addr: SocketAddr,
    state: Arc<AppState>,
    producer: Arc<Mutex<Producer>>,
    /// Tells the generator thread to stop (it is not a tokio task, so not cancellable).
    stop: Arc<AtomicBool>,
    generator: Option<std::thread::JoinHandle<()>>,
    tracker: TaskTracker,
    accept: Option<tokio::task::JoinHandle<()>>,
    /// The certificate served with `Config::tls`.
    tls: Option<Tls>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS)
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The TLS certificate served (its PEM and SHA-256 fingerprint), if any.
    pub fn tls(&self) -> Option<&Tls> {
        self.tls.as_ref()
    }

    /// Generate `n` ticks right now (scheduled ts = now), bypassing the Poisson clock. For tests;
    /// works with rate 0. Returns the seq of the last tick published (of the newest tick when
    /// `n` is 0, 0 if none yet).
    pub fn publish(&self, n: usize) -> u64 {
        self.producer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .publish_now(n)
    }

    /// The run's time origin (µs since the Unix epoch): `--epoch-us`, or the start time.
    pub fn epoch_us(&self) -> u64 {
        self.state.epoch_us
    }

    /// The journal, for in-process inspection.
    pub fn journal(&self) -> &Journal {
        &self.state.journal
    }

    /// Graceful shutdown: stop accepting, send every stream its `bye` frame, answer held
    /// long-polls, wait up to the drain time for connections to finish.
    pub async fn shutdown(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.state.cancel.cancel();
        if let Some(a) = self.accept.take() {
            let _ = a.await;
        }
        self.tracker.close();
        let drain = self.state.config.drain + Duration::from_millis(500);
        if tokio::time::timeout(drain, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "{} connections still open after the drain time; closing them",
                self.tracker.len()
            );
        }
        if let Some(g) = self.generator.take() {
            let _ = tokio::task::spawn_blocking(move || g.join()).await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.state.cancel.cancel();
    }
}

/// Binds `addr` (use 127.0.0.1:0 in tests), replays the market up to now when
/// [`Config::epoch_us`] lies in the past, then starts the generator thread and the accept loop
/// on the current tokio runtime. An edge ([`Config::nats`]) instead takes its market from the
/// feed's stream and fills the journal from it before accepting (see `feed::nats`).
pub async fn spawn(config: Config, addr: SocketAddr) -> Result<ServerHandle, Error> {
    config.validate()?;
    let (config, edge) = match &config.nats {
        Some(url) => {
            let edge = Edge::connect(url).await?;
            let config = config.clone().with_feed_meta(&edge.meta);
            // The stream's description is input like any flag.
            config.validate()?;
            (config, Some(edge))
        }
        None => (config, None),
    };
    let tls = config.tls.as_ref().map(Tls::load).transpose()?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    let epoch_us = config.epoch_us.unwrap_or_else(now_micros);
    let mut state = AppState::new(config.clone(), epoch_us);
    let source = config.source(&state.universe);
    let mut producer = Producer::new(source, state.universe.clone(), state.journal.clone());
    // Before the accept loop starts: a client resuming by cursor must find the replayed
    // journal, not a 400 for a cursor "ahead" of a journal still catching up. Connections made
    // meanwhile wait in the listen backlog.
    // An edge's journal comes from its feed, not from a replay.
    let replay_to = if edge.is_some() { 0 } else { now_micros() };
    let (producer, replayed) = tokio::task::spawn_blocking(move || {
        let r = generator::replay(&mut producer, epoch_us, replay_to);
        (producer, r)
    })
    .await
    .map_err(Error::Replay)?;
    if replayed.ticks > 0 {
        tracing::info!(
            ticks = replayed.ticks,
            next = state.journal.next_seq(),
            "replayed the market from the epoch"
        );
    }
    if let Some(edge) = edge {
        edge.start(
            state.journal.clone(),
            state.universe.clone(),
            state.metrics.clone(),
            state.cancel.clone(),
        )
        .await?;
    }
    // Uptime counts from when the server starts serving, not from before the replay.
    state.started = Instant::now();
    let producer = Arc::new(Mutex::new(producer));
    let metrics = state.metrics.clone();
    metrics
        .ticks_published
        .fetch_add(replayed.ticks, Ordering::Relaxed);
    let state = Arc::new(state);
    let tracker = TaskTracker::new();
    let accept = tokio::spawn(serve::accept_loop(
        listener,
        app::app(state.clone()),
        state.clone(),
        tracker.clone(),
        tls.clone(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let generator = if config.scheduled() {
        Some(
            generator::spawn(
                producer.clone(),
                metrics,
                stop.clone(),
                epoch_us,
                replayed.pending,
            )
            .map_err(Error::Generator)?,
        )
    } else {
        None
    };
    Ok(ServerHandle {
        addr,
        state,
        producer,
        stop,
        generator,
        tracker,
        accept: Some(accept),
        tls,
    })
}
