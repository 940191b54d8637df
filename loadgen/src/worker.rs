//! Worker threads. Each owns a single-threaded tokio runtime and a `LocalSet`, runs its slice of a
//! phase's clients there, and records what they report into its own [`WorkerStats`] (an
//! `Rc<RefCell<..>>`: no lock, no atomic, no cross-core traffic on the hot path).
//!
//! The coordinator drives the workers with [`Command`]s over a channel: start a phase, hand over
//! the interval recorded so far (every second), and drain (wait for the phase's clients to stop).
//! A probe task on each worker ([`crate::saturation::probe`]) records how long a task that became
//! ready waits for the worker's event loop: a worker whose loop falls behind makes every latency
//! it measures a lie, and this is how we notice.

use std::cell::RefCell;
use std::rc::Rc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::clients::{run_client, ClientConfig, HttpClients};
use crate::error::Error;
use crate::stats::{ClientSink, Interval, WorkerStats};

/// How long a drain waits for clients to close before aborting them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// One worker's share of a phase.
#[derive(Debug)]
pub struct PhasePlan {
    /// Each client and when to start it relative to `start` (the ramp spreads them); its
    /// source address is `ClientConfig::local_addr`.
    pub clients: Vec<(Duration, ClientConfig)>,
    pub start: Instant,
    /// Cancelled when the phase ends (or the run is interrupted).
    pub cancel: CancellationToken,
}

/// What the coordinator asks of a worker.
#[derive(Debug)]
pub enum Command {
    /// Start these clients (the worker's stats restart from zero).
    Phase(PhasePlan),
    /// Reply with the interval recorded since the last collection.
    Collect(oneshot::Sender<Interval>),
    /// The phase is cancelled: wait for its clients to end, then reply with the last interval.
    Drain(oneshot::Sender<Interval>),
}

/// A running worker thread.
#[derive(Debug)]
pub struct Worker {
    tx: mpsc::UnboundedSender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts worker `id`'s thread and runtime.
    pub fn spawn(id: usize) -> Result<Worker, Error> {
        let (tx, rx) = mpsc::unbounded_channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::os("building a worker runtime"))?;
        let thread = std::thread::Builder::new()
            .name(format!("loadgen-worker-{id}"))
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, worker_main(rx));
            })
            .map_err(Error::os("spawning a worker thread"))?;
        Ok(Worker {
            tx,
            thread: Some(thread),
        })
    }

    /// Sends `cmd`; an error means the worker thread is gone.
    pub fn send(&self, cmd: Command) -> Result<(), Error> {
        self.tx.send(cmd).map_err(|_| Error::WorkerStopped)
    }

    /// Asks for the interval so far.
    pub async fn collect(&self) -> Result<Interval, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Collect(tx))?;
        rx.await.map_err(|_| Error::WorkerStopped)
    }

    /// Waits for the worker's clients to end and returns what they recorded meanwhile.
    pub async fn drain(&self) -> Result<Interval, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Drain(tx))?;
        rx.await.map_err(|_| Error::WorkerStopped)
    }
}

impl Drop for Worker {
    /// Closing the channel ends the worker's loop; join so no thread outlives the run.
    fn drop(&mut self) {
        let (tx, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn worker_main(mut rx: mpsc::UnboundedReceiver<Command>) {
    let stats = Rc::new(RefCell::new(WorkerStats::default()));
    let probe_stats = stats.clone();
    let probe = tokio::task::spawn_local(crate::saturation::probe::run(move |us| {
        probe_stats
            .borrow_mut()
            .current
            .loop_lag
            .saturating_record(us);
    }));
    let mut clients: JoinSet<()> = JoinSet::new();
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Phase(plan) => start_phase(plan, &stats, &mut clients),
            Command::Collect(reply) => {
                let _ = reply.send(stats.borrow_mut().take());
            }
            Command::Drain(reply) => {
                let all_done = async { while clients.join_next().await.is_some() {} };
                if tokio::time::timeout(DRAIN_TIMEOUT, all_done).await.is_err() {
                    tracing::warn!(
                        "{} clients did not stop within {DRAIN_TIMEOUT:?}; aborting them",
                        clients.len()
                    );
                    clients.abort_all();
                    while clients.join_next().await.is_some() {}
                }
                let last = stats.borrow_mut().take();
                *stats.borrow_mut() = WorkerStats::default();
                let _ = reply.send(last);
            }
        }
    }
    clients.abort_all();
    probe.abort();
}

fn start_phase(plan: PhasePlan, stats: &Rc<RefCell<WorkerStats>>, clients: &mut JoinSet<()>) {
    *stats.borrow_mut() = WorkerStats::default();
    let http_clients = Rc::new(RefCell::new(HttpClients::default()));
    for (offset, cfg) in plan.clients {
        let (stats, cancel) = (stats.clone(), plan.cancel.clone());
        let http_clients = http_clients.clone();
        let at = tokio::time::Instant::from_std(plan.start + offset);
        clients.spawn_local(async move {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep_until(at) => {}
            }
            // One `reqwest::Client` (one pool, one keep-alive connection) per request client,
            // as one browser tab has: a shared pool would hand connections between clients and
            // close the surplus after every answer, so polls would reconnect constantly and the
            // server would see far fewer connections than clients. Built when the client starts,
            // so the ramp spreads the cost. Each phase starts from zero connections. Tabs that
            // share an HTTP/2 connection (`--tabs-per-conn`) share one client instead; HTTP/1.1
            // streams of one source address share a pool (each stream still on a connection of
            // its own, see `HttpClients`), and a WebSocket client, which sends nothing through
            // reqwest, gets none of its own.
            let http = http_clients.borrow_mut().client_for(&cfg);
            let sink = if cfg.read_rate.is_some() {
                ClientSink::slow(stats)
            } else {
                ClientSink::new(stats)
            };
            run_client(cfg, http, sink, cancel).await;
        });
    }
}
