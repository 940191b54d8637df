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
//! The stream is a pure function of (seed, rate, symbols, epoch): a server started with
//! [`Config::epoch_us`] set to an earlier server's epoch replays the market up to now before it
//! accepts connections and continues that server's exact sequence, so clients resume by cursor
//! across a restart (see [`generator`]). Every answer carries `X-Tickbench-Epoch`.
//!
//! # Layout
//! - [`config`]: [`Config`] and the `tickbench serve` options [`ServeOpts`].
//! - [`market`]: the symbol universe and the seeded random walk (GBM prices, Poisson arrivals,
//!   Zipf popularity).
//! - [`generator`]: the startup replay, the paced generator thread and the producer that
//!   encodes and publishes.
//! - [`journal`]: the ring of encoded ticks, cursors, gaps, latest quotes, reader wake-ups.
//! - [`state`]: what every handler shares.
//! - [`api_error`], [`json`], [`params`]: the JSON error answers, the headers of every JSON
//!   answer, query parsing.
//! - [`conn`]: the per-connection handle through which a stream too far behind asks for a reset.
//! - [`transports`]: one module per push technique, and what they share.
//! - [`endpoints`]: the non-transport endpoints; [`app`]: the router.
//! - [`serve`]: the accept loop (timeouts, connection cap, resets of streams too far behind,
//!   graceful shutdown).
//! - [`metrics`]: the counters behind `/metrics`.

pub mod api_error;
pub mod app;
pub mod config;
pub mod conn;
pub mod endpoints;
pub mod generator;
pub mod journal;
pub mod json;
pub mod market;
pub mod metrics;
pub mod params;
pub mod serve;
pub mod state;
pub mod transports;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tickbench_wire::now_micros;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

pub use config::{Config, ServeOpts};

use generator::Producer;
use journal::Journal;
use market::Market;
use state::AppState;

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

/// Binds `addr` (use 127.0.0.1:0 in tests), starts the generator thread and the accept loop on
/// the current tokio runtime.
pub async fn spawn(config: Config, addr: SocketAddr) -> anyhow::Result<ServerHandle> {
    config.validate()?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    let epoch_us = config.epoch_us.unwrap_or_else(now_micros);
    let mut state = AppState::new(config.clone(), epoch_us);
    let market = Market::new(&state.universe, config.seed, config.rate);
    let mut producer = Producer::new(market, state.universe.clone(), state.journal.clone());
    // Before the accept loop starts: a client resuming by cursor must find the replayed
    // journal, not a 400 for a cursor "ahead" of a journal still catching up. Connections made
    // meanwhile wait in the listen backlog.
    let (producer, replayed) = tokio::task::spawn_blocking(move || {
        let r = generator::replay(&mut producer, epoch_us, now_micros());
        (producer, r)
    })
    .await
    .context("replay of the market failed")?;
    if replayed.ticks > 0 {
        tracing::info!(
            ticks = replayed.ticks,
            next = state.journal.next_seq(),
            "replayed the market from the epoch"
        );
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
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let generator = if config.rate > 0.0 {
        Some(
            generator::spawn(
                producer.clone(),
                metrics,
                stop.clone(),
                epoch_us,
                replayed.pending,
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

/// Runs the server until SIGINT/SIGTERM (or, with `--exit-on-stdin-close`, end of stdin). Prints `listening on http://ADDR` as the first stdout
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
            epoch_us = server.epoch_us(),
            "serving"
        );
        if opts.exit_on_stdin_close {
            tokio::select! {
                r = wait_for_signal() => r?,
                _ = stdin_closed() => tracing::info!("stdin closed"),
            }
        } else {
            wait_for_signal().await?;
        }
        tracing::info!("shutting down");
        server.shutdown().await;
        Ok(())
    })
}

/// Resolves when stdin reaches end of file (or fails). A plain thread, not `tokio::io::stdin`:
/// tokio's stdin reads on a blocking-pool thread that would hold up the runtime's shutdown while
/// the read is pending; this thread is simply abandoned when the process exits.
async fn stdin_closed() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("tickbench-stdin".into())
        .spawn(move || {
            use std::io::Read as _;
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 4096];
            // Whatever the parent writes is ignored; only EOF (or an error) matters.
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            let _ = tx.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = rx.await;
        }
        Err(e) => {
            tracing::warn!("cannot watch stdin ({e}); only signals stop the server");
            std::future::pending::<()>().await;
        }
    }
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
