//! Counters behind `GET /metrics` (Prometheus text format). Plain relaxed atomics: each is
//! independent and a scrape only needs to be approximately simultaneous. The standard
//! `process_*` metrics are [`crate::process_metrics`].

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use tickbench_wire::Transport;

/// Per-transport counters.
#[derive(Debug, Default)]
pub struct PerTransport {
    pub requests: AtomicU64,
    /// Streams currently open (streaming transports) or requests being held (long-poll).
    pub open: AtomicU64,
    pub deliveries: AtomicU64,
    pub bytes: AtomicU64,
    pub gaps: AtomicU64,
    /// Streams whose connection was reset for falling too far behind.
    pub slow_closes: AtomicU64,
}

/// One per-transport metric family: name, help, type, and which counter it reads.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    fn(&PerTransport) -> &AtomicU64,
);

/// Every counter of the server, shared by the handlers, the accept loop and the generator.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Indexed by [`Transport::index`]; [`Metrics::t`] picks one.
    pub transports: [PerTransport; Transport::COUNT],
    /// Connections currently served (the number the cap is checked against).
    pub conns_open: AtomicUsize,
    pub conns_accepted: AtomicU64,
    /// Connections answered 503 because the cap was reached.
    pub conns_rejected: AtomicU64,
    pub accept_errors: AtomicU64,
    /// Requests that are not one of the transports (snapshot, symbols, errors, ...).
    pub other_requests: AtomicU64,
    /// Answers with a 4xx status (bad parameters, unknown paths, oversized bodies, ...).
    pub client_errors: AtomicU64,
    /// Ticks published by the paced generator thread and by the startup replay;
    /// `ServerHandle::publish` (tests) does not count here.
    pub ticks_published: AtomicU64,
    /// now − scheduled ts of the newest published tick, µs, at publish time.
    pub generator_lag_us: AtomicU64,
    /// Worst value `generator_lag_us` has had.
    pub generator_lag_max_us: AtomicU64,
    /// Deliveries written by the fan-out writer's shards (streams parked at the head; see
    /// `crate::fanout`), also counted in their transport's deliveries.
    pub fanout_deliveries: AtomicU64,
    /// Streams the fan-out writer handed back to their own task (socket full, or a cursor to
    /// catch up by).
    pub fanout_returns: AtomicU64,
}

impl Metrics {
    /// The counters of transport `t`.
    pub fn t(&self, t: Transport) -> &PerTransport {
        &self.transports[t.index()]
    }

    /// Counts `n` ticks published with the newest `lag_us` behind its schedule.
    pub fn record_publish(&self, n: usize, lag_us: u64) {
        self.ticks_published.fetch_add(n as u64, Relaxed);
        self.generator_lag_us.store(lag_us, Relaxed);
        self.generator_lag_max_us.fetch_max(lag_us, Relaxed);
    }

    /// Counts `ticks` delivered in `bytes` body bytes by transport `t`.
    pub fn delivered(&self, t: Transport, ticks: usize, bytes: usize) {
        let p = self.t(t);
        p.deliveries.fetch_add(ticks as u64, Relaxed);
        p.bytes.fetch_add(bytes as u64, Relaxed);
    }

    /// Renders the Prometheus text exposition, named by Prometheus's conventions: base units
    /// (`_seconds`, `_bytes`), `_total` on counters only, nouns for gauges, one requests family
    /// with an `endpoint` label, and the standard `process_*` metrics of this process.
    pub fn render(&self, journal_len: usize, journal_next: u64, uptime_s: f64) -> String {
        let mut s = String::with_capacity(8192);
        let mut one = |name: &str, help: &str, kind: &str, v: String| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        one(
            "tickbench_open_connections",
            "TCP connections currently served.",
            "gauge",
            self.conns_open.load(Relaxed).to_string(),
        );
        one(
            "tickbench_connections_accepted_total",
            "TCP connections accepted.",
            "counter",
            self.conns_accepted.load(Relaxed).to_string(),
        );
        one(
            "tickbench_connections_rejected_total",
            "Connections answered 503 over the connection cap.",
            "counter",
            self.conns_rejected.load(Relaxed).to_string(),
        );
        one(
            "tickbench_accept_errors_total",
            "accept() errors (e.g. out of file descriptors).",
            "counter",
            self.accept_errors.load(Relaxed).to_string(),
        );
        one(
            "tickbench_client_errors_total",
            "Answers with a 4xx status.",
            "counter",
            self.client_errors.load(Relaxed).to_string(),
        );
        one(
            "tickbench_journal_ticks",
            "Ticks retained in the journal.",
            "gauge",
            journal_len.to_string(),
        );
        one(
            "tickbench_journal_next_seq",
            "Seq the next published tick gets.",
            "gauge",
            journal_next.to_string(),
        );
        one(
            "tickbench_ticks_published_total",
            "Ticks published by the paced generator.",
            "counter",
            self.ticks_published.load(Relaxed).to_string(),
        );
        one(
            "tickbench_fanout_deliveries_total",
            "Deliveries written by the fan-out writer (streams at the journal head, one pass per publish).",
            "counter",
            self.fanout_deliveries.load(Relaxed).to_string(),
        );
        one(
            "tickbench_fanout_returns_total",
            "Streams the fan-out writer handed back to their own task (socket full, or behind).",
            "counter",
            self.fanout_returns.load(Relaxed).to_string(),
        );
        one(
            "tickbench_generator_lag_seconds",
            "Wall clock minus scheduled ts of the newest published tick, at publish.",
            "gauge",
            micros_as_seconds(self.generator_lag_us.load(Relaxed)),
        );
        one(
            "tickbench_generator_lag_max_seconds",
            "Worst generator lag seen.",
            "gauge",
            micros_as_seconds(self.generator_lag_max_us.load(Relaxed)),
        );
        one(
            "tickbench_uptime_seconds",
            "Seconds since the server started.",
            "gauge",
            format!("{uptime_s:.3}"),
        );
        // One family for every request: a transport's name, or `other` (snapshot, symbols,
        // health, metrics, unknown paths).
        let name = "tickbench_requests_total";
        let _ = writeln!(
            s,
            "# HELP {name} HTTP requests by endpoint (stream connects count).\n# TYPE {name} counter"
        );
        for t in Transport::ALL {
            let _ = writeln!(
                s,
                "{name}{{endpoint=\"{}\"}} {}",
                t.name(),
                self.t(t).requests.load(Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "{name}{{endpoint=\"other\"}} {}",
            self.other_requests.load(Relaxed)
        );
        let fams: [Family; 5] = [
            (
                "tickbench_open_streams",
                "Streams open or long-polls held.",
                "gauge",
                |p| &p.open,
            ),
            (
                "tickbench_deliveries_total",
                "Ticks written to clients.",
                "counter",
                |p| &p.deliveries,
            ),
            (
                "tickbench_bytes_total",
                "Response body bytes written.",
                "counter",
                |p| &p.bytes,
            ),
            (
                "tickbench_gap_notices_total",
                "Gap notices sent.",
                "counter",
                |p| &p.gaps,
            ),
            (
                "tickbench_slow_consumer_closes_total",
                "Streams reset for not catching up with the journal head within --max-behind.",
                "counter",
                |p| &p.slow_closes,
            ),
        ];
        for (name, help, kind, get) in fams {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for t in Transport::ALL {
                let _ = writeln!(
                    s,
                    "{name}{{transport=\"{}\"}} {}",
                    t.name(),
                    get(self.t(t)).load(Relaxed)
                );
            }
        }
        crate::process_metrics::render(&mut s, uptime_s);
        s
    }
}

/// µs as a decimal number of seconds (Prometheus's base unit), exact to the µs.
fn micros_as_seconds(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// Counts a stream or held request as open exactly as long as this guard lives, however it
/// ends (completion, client gone, shutdown).
#[derive(Debug)]
pub struct OpenGuard {
    metrics: Arc<Metrics>,
    transport: Transport,
}

impl OpenGuard {
    pub fn new(metrics: Arc<Metrics>, transport: Transport) -> Self {
        metrics.t(transport).open.fetch_add(1, Relaxed);
        OpenGuard { metrics, transport }
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.metrics.t(self.transport).open.fetch_sub(1, Relaxed);
    }
}
