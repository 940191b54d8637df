//! [`AppState`]: what every handler shares, built in one place by [`AppState::new`].

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::fanout::Fanout;
use crate::journal::Journal;
use crate::market::Universe;
use crate::metrics::Metrics;

/// Everything a handler needs, shared by all connections.
pub struct AppState {
    /// The settings the server was started with (heartbeat, limits, what `/symbols` reports).
    pub config: Config,
    /// The symbols, for watchlist lookups and `/symbols`.
    pub universe: Arc<Universe>,
    /// The ring every client reads by cursor; shared with the producer that publishes into it.
    pub journal: Arc<Journal>,
    /// Shared with the generator thread, which counts what it publishes.
    pub metrics: Arc<Metrics>,
    /// Cancelled on SIGINT/SIGTERM or `ServerHandle::shutdown`: streams send their `bye` frame
    /// and end, held long-polls answer at once.
    pub cancel: CancellationToken,
    /// When the server started, for `/healthz` and `/metrics` uptime.
    pub started: Instant,
    /// The run's time origin, µs: ticks are scheduled at epoch + Poisson offsets. Reported in
    /// `/symbols`, `/healthz` and `X-Tickbench-Epoch` so a client can tell a restarted server
    /// continuing the same stream (same epoch) from a different one.
    pub epoch_us: u64,
    /// Order ids for `POST /api/orders`.
    pub order_ids: AtomicU64,
    /// Writes the ticks of streams standing at the journal head, one pass per publish.
    pub fanout: Fanout,
}

impl AppState {
    /// A fresh state for `config` whose time origin is `epoch_us`: the universe of
    /// `config.symbols` symbols from `config.seed` (or the replayed tape's), an empty journal retaining `config.retain`
    /// ticks, zeroed metrics, no order placed yet. The one constructor, for `spawn` and for
    /// anything that drives the router in-process; ticks appear once a `generator::Producer`
    /// built on [`universe`](Self::universe) and [`journal`](Self::journal) publishes them.
    pub fn new(config: Config, epoch_us: u64) -> AppState {
        let universe = config.universe();
        // `--debug-slow` holds each chunk of a stream: nothing may write around it.
        let config_fanout = config.debug_slow.is_empty();
        let heartbeat = config.heartbeat;
        let journal = Arc::new(Journal::new(&universe, config.retain, epoch_us));
        AppState {
            config,
            universe,
            journal,
            metrics: Arc::new(Metrics::default()),
            cancel: CancellationToken::new(),
            started: Instant::now(),
            epoch_us,
            order_ids: AtomicU64::new(0),
            fanout: Fanout::new(config_fanout, heartbeat),
        }
    }
}
