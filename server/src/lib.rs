//! tickbench quote server: a seeded stock-market simulator publishing into a sequenced tick
//! journal, served over every classic Comet push technique (interval polling, JSONP,
//! piggyback, long-poll, chunked NDJSON, Server-Sent Events, multipart/x-mixed-replace and the
//! forever iframe) exactly as `docs/protocol.md` describes.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let cfg = tickbench_server::Config { rate: 0.0, ..Default::default() };
//! let server = tickbench_server::spawn(cfg, "127.0.0.1:0".parse()?).await?;
//! let last = server.publish(10); // ten ticks now, seqs 1..=10
//! let body = reqwest::get(format!("{}/poll?since=1", server.url())).await?.text().await?;
//! server.shutdown().await;
//! # let _ = (last, body); Ok(()) }
//! ```
//!
//! Every tick is encoded to JSON once, kept in one bounded ring, and read by every client through
//! its own cursor: the server keeps no per-client queues, so a slow client costs a cursor and at
//! most one write buffer, and loss (a cursor that fell out of the ring) is always declared with an
//! explicit gap.
//!
//! # Layout
//! - [`config`]: [`Config`] and the `tickbench serve` options [`ServeOpts`].
//! - [`market`]: the symbol universe and the seeded random walk (GBM prices, Poisson arrivals,
//!   Zipf popularity).
//! - [`generator`]: the paced generator thread and the producer that encodes and publishes.
//! - [`journal`]: the ring of encoded ticks, cursors, gaps, latest quotes, reader wake-ups.
//! - [`app`]: the router and the non-transport endpoints.
//! - [`transports`]: one module per push technique, and the shared stream feed.
//! - [`params`], [`error`]: query parsing and the JSON error answers.
//! - [`serve`]: the accept loop (timeouts, connection cap, graceful shutdown).
//! - [`metrics`]: the counters behind `/metrics`.

pub mod app;
pub mod config;
pub mod error;
pub mod generator;
pub mod journal;
pub mod market;
pub mod metrics;
pub mod params;
pub mod serve;
pub mod transports;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tickbench_wire::now_micros;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{Config, ServeOpts};

use app::AppState;
use generator::Producer;
use journal::Journal;
use market::{Market, Universe};
use metrics::Metrics;

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

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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

/// Binds `addr` (use 127.0.0.1:0 in tests), starts the generator thread and the accept loop on
/// the current tokio runtime.
pub async fn spawn(config: Config, addr: SocketAddr) -> anyhow::Result<ServerHandle> {
    config.validate()?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    let universe = Arc::new(Universe::new(config.symbols, config.seed));
    let journal = Arc::new(Journal::new(&universe, config.retain, now_micros()));
    let market = Market::new(&universe, config.seed, config.rate);
    let producer = Arc::new(Mutex::new(Producer::new(
        market,
        universe.clone(),
        journal.clone(),
    )));
    let metrics = Arc::new(Metrics::default());
    let state = Arc::new(AppState {
        config: config.clone(),
        universe,
        journal,
        metrics: metrics.clone(),
        cancel: CancellationToken::new(),
        started: Instant::now(),
        order_ids: AtomicU64::new(0),
    });
    let tracker = TaskTracker::new();
    let accept = tokio::spawn(serve::accept_loop(
        listener,
        app::app(state.clone()),
        state.clone(),
        tracker.clone(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let generator = if config.rate > 0.0 {
        Some(
            generator::spawn(
                producer.clone(),
                metrics,
                stop.clone(),
                Instant::now(),
                now_micros(),
            )
            .context("cannot start the generator thread")?,
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
    })
}

/// Runs the server until SIGINT/SIGTERM. Prints `listening on http://ADDR` as the first stdout
/// line (and flushes it) so a parent process started with `--addr 127.0.0.1:0` learns the port.
pub fn run(opts: ServeOpts) -> anyhow::Result<()> {
    raise_fd_limit();
    let config = opts.config();
    config.validate()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    rt.block_on(async move {
        let server = spawn(config.clone(), opts.addr).await?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {}", server.url())?;
            out.flush()?;
        }
        tracing::info!(
            rate = config.rate,
            seed = config.seed,
            symbols = config.symbols,
            retain = config.retain,
            max_conns = config.max_conns,
            "serving"
        );
        wait_for_signal().await?;
        tracing::info!("shutting down");
        server.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot install SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot install SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

/// Raises the soft fd limit to the hard one: thousands of streaming clients each need an fd.
fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                tracing::debug!("cannot raise the fd limit: {e}");
            }
        }
    }
}
