//! What one simulated client carries between requests, whatever its transport: the cursor, the
//! sequence checker, the backoff state, the RNG and the URL buffer; plus the delivery and
//! failure paths every transport loop shares, so each reports to the [`Sink`] the same way.

use std::time::Duration;

use bytes::Bytes;
use rand::{rngs::SmallRng, RngExt, SeedableRng};
use tickbench_wire::framing::{empty_tick, BatchRef};
use tickbench_wire::{ApiError, Gap, Tick};

use super::backoff::Backoff;
use super::config::ClientConfig;
use super::failover::Failover;
use super::http::{classify, push_param, push_symbols, retry_after};
use super::seq::SeqChecker;
use super::sink::{ErrorKind, Sink};

/// A failed attempt: what to count (`None`: nothing failed, the answer just cannot be used), and
/// the server's `Retry-After`, if it sent one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failure {
    pub kind: Option<ErrorKind>,
    pub retry_after: Option<Duration>,
}

impl From<ErrorKind> for Failure {
    fn from(kind: ErrorKind) -> Self {
        Failure {
            kind: Some(kind),
            retry_after: None,
        }
    }
}

impl Failure {
    /// The answer came from a different stream (see [`ClientState::same_stream`]).
    fn stream_changed() -> Self {
        Failure {
            kind: None,
            retry_after: None,
        }
    }
}

/// The whole body of `resp`. An answer is one chunk (the server writes it with its length), which
/// is returned as it came, without a copy; more chunks are joined. Unlike
/// `reqwest::Response::bytes` this keeps no list of chunks and its future is small.
async fn read_body(resp: &mut reqwest::Response) -> reqwest::Result<Bytes> {
    let Some(first) = resp.chunk().await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = resp.chunk().await? else {
        return Ok(first);
    };
    let mut all = bytes::BytesMut::with_capacity(first.len() + second.len());
    all.extend_from_slice(&first);
    all.extend_from_slice(&second);
    while let Some(more) = resp.chunk().await? {
        all.extend_from_slice(&more);
    }
    Ok(all.freeze())
}

/// Response header with the server's epoch: equal epochs mean the same stream continues.
pub const EPOCH_HEADER: &str = "x-tickbench-epoch";

pub(crate) struct ClientState<S> {
    pub cfg: ClientConfig,
    pub http: reqwest::Client,
    pub sink: S,
    /// `since` for the next request; `None` until the server first told us where "now" is.
    pub cursor: Option<u64>,
    pub seq: SeqChecker,
    pub backoff: Backoff,
    /// Jitter, action mix and inter-arrival times; small and seeded so runs are reproducible.
    pub rng: SmallRng,
    /// The URL being built; reused so a request does not allocate a fresh string.
    pub url: String,
    /// `base + path` of the last [`Self::begin_url`], and that path: rebuilt only when the path
    /// changes, so a request's URL is one copy and the cursor's digits.
    url_prefix: String,
    url_path: String,
    /// The tick being delivered: every parsed tick is decoded into this one (its symbol's buffer
    /// reused), so the path from the parser to the histogram allocates nothing per tick.
    // Boxed: 80 bytes inline would sit in every client's future for the whole run; one
    // allocation per client (never per tick) keeps the state machine small.
    pub tick: Box<Tick>,
    /// `symbols=A,B,C`, percent-encoded once: the watchlist never changes for a client, and
    /// encoding it on every request showed up in the load generator's profile. Empty for "all".
    symbols_query: String,
    /// Whether we last told the sink `connected(true)`.
    up: bool,
    /// A connection failed or closed since the last one was established: the next success is a
    /// reconnect.
    broken: bool,
    /// SSE: the last event id received, sent as `Last-Event-ID` on reconnect like a browser.
    pub last_event_id: Option<u64>,
    /// Smallest delay before reconnecting (SSE `retry:`), on top of the backoff.
    pub min_delay: Duration,
    /// The server's epoch (`X-Tickbench-Epoch`) the cursor belongs to; `None` before the first
    /// answer or when the server does not send one.
    epoch: Option<u64>,
    /// The other edges it may move to and its takeover clock (`run --failover`).
    failover: Option<Failover>,
}

impl<S: Sink> ClientState<S> {
    pub fn new(cfg: ClientConfig, http: reqwest::Client, sink: S) -> Self {
        let seq = SeqChecker::new(cfg.known_sseq.as_deref());
        let rng = SmallRng::seed_from_u64(cfg.seed);
        let failover = Failover::new(cfg.base.clone(), cfg.failover.clone(), cfg.seed);
        let mut symbols_query = String::new();
        // An empty watchlist would be a 400 on every request; it can only mean "no filter".
        if let Some(syms) = cfg.symbols.as_deref().filter(|s| !s.is_empty()) {
            push_symbols(&mut symbols_query, syms);
            symbols_query.remove(0); // the separator; `begin_url` adds the right one
        }
        Self {
            symbols_query,
            cursor: cfg.since,
            cfg,
            http,
            sink,
            seq,
            backoff: Backoff::default(),
            rng,
            url: String::new(),
            url_prefix: String::new(),
            url_path: String::new(),
            tick: Box::new(empty_tick()),
            up: false,
            broken: false,
            min_delay: Duration::ZERO,
            last_event_id: None,
            epoch: None,
            failover,
        }
    }

    /// Starts `self.url` as `base + path` with the cursor and watchlist parameters.
    pub fn begin_url(&mut self, path: &str) {
        if self.url_path != path || self.url_prefix.is_empty() {
            self.url_path.clear();
            self.url_path.push_str(path);
            self.url_prefix.clear();
            self.url_prefix
                .push_str(self.cfg.base.as_str().trim_end_matches('/'));
            self.url_prefix.push_str(path);
        }
        self.url.clear();
        self.url.push_str(&self.url_prefix);
        if let Some(c) = self.cursor {
            push_param(&mut self.url, "since", c);
        }
        if !self.symbols_query.is_empty() {
            self.url
                .push(if self.url.contains('?') { '&' } else { '?' });
            self.url.push_str(&self.symbols_query);
        }
    }

    /// A connection was opened or an answer arrived.
    pub fn established(&mut self) {
        self.backoff.reset();
        if let Some(f) = &mut self.failover {
            f.established();
        }
        // On the edge it moved to, the answer is the resume: the takeover ends here.
        self.took_over();
        if !self.up {
            self.up = true;
            self.sink.connected(true);
        }
        if self.broken {
            self.broken = false;
            self.sink.reconnect();
        }
    }

    /// The connection is gone (closed by the server or failed).
    pub fn lost(&mut self) {
        self.broken = true;
        if let Some(f) = &mut self.failover {
            f.connection_lost();
        }
        if self.up {
            self.up = false;
            self.sink.connected(false);
        }
    }

    /// Reports the end of the client (cancellation) to the sink.
    pub fn shutdown(&mut self) {
        if self.up {
            self.up = false;
            self.sink.connected(false);
        }
    }

    /// Counts `f` and waits out the backoff (at least `Retry-After` when the server sent one).
    pub async fn fail(&mut self, f: Failure) {
        if let Some(kind) = f.kind {
            self.sink.error(kind);
        }
        self.lost();
        if let Some(edge) = self.failover.as_mut().and_then(|fo| fo.failed(f.kind)) {
            self.move_to(edge);
        }
        let mut d = self.backoff.next_delay(&mut self.rng).max(self.min_delay);
        if let Some(ra) = f.retry_after {
            // Honour the server, plus a little jitter so a crowd told "1 s" does not return at once.
            d = ra + d.min(super::backoff::BASE * 5);
        }
        tokio::time::sleep(d).await;
    }

    /// Moves to another edge of the same feed: the cursor, `Last-Event-ID`, epoch and sequence
    /// baselines stay, since every edge serves the identical stream.
    fn move_to(&mut self, edge: reqwest::Url) {
        tracing::debug!("{} is gone: moving to {edge}", self.cfg.base);
        self.cfg.base = edge;
        self.url_prefix.clear();
        // SSE's `retry:` was the gone edge's advice; the new edge gives its own on connecting
        // (as a page opening a new EventSource would get), so only the backoff's jitter waits.
        self.min_delay = Duration::ZERO;
    }

    /// Reports a finished takeover when this tick is the first on the edge it moved to.
    #[inline]
    fn took_over(&mut self) {
        if let Some(d) = self.failover.as_mut().and_then(Failover::delivered) {
            self.sink.takeover(d.as_micros() as u64);
        }
    }

    /// A clean close (server `bye`, end mark): no error, but still a backoff-jittered pause so a
    /// restarting server is not hit by every client in the same millisecond.
    pub async fn closed(&mut self) {
        self.lost();
        let d = self.backoff.next_delay(&mut self.rng).max(self.min_delay);
        tokio::time::sleep(d).await;
    }

    /// Sends `req`, checks the status and reads the whole body, counting the request and bytes.
    pub async fn fetch(&mut self, req: reqwest::RequestBuilder) -> Result<Bytes, Failure> {
        self.sink.request();
        let mut resp = req.send().await.map_err(|e| Failure::from(classify(&e)))?;
        if !resp.status().is_success() {
            // Boxed: rare, and reading an error body is a large future that every polling
            // client's would otherwise have room for.
            return Err(Box::pin(self.status_failure(resp)).await);
        }
        if !self.same_stream(resp.headers()) {
            return Err(Failure::stream_changed());
        }
        let body = read_body(&mut resp)
            .await
            .map_err(|e| Failure::from(classify(&e)))?;
        self.sink.bytes(body.len() as u64);
        Ok(body)
    }

    /// Turns a non-success answer into a [`Failure`] (see [`Self::failure_from`]).
    pub async fn status_failure(&mut self, resp: reqwest::Response) -> Failure {
        let status = resp.status().as_u16();
        let retry = retry_after(resp.headers());
        let body = if status == 400 {
            resp.bytes().await.ok()
        } else {
            None
        };
        self.failure_from(status, retry, body.as_deref())
    }

    /// A non-success answer with `status`, its `Retry-After` and (for a 400) its body. A 400
    /// about `since` (or SSE's `Last-Event-ID`) means the cursor came from a server that is gone
    /// (restarted with a fresh journal): the client starts over from the new server's oldest
    /// tick and forgets its `sseq` baselines, which restart at 1.
    pub fn failure_from(
        &mut self,
        status: u16,
        retry_after: Option<Duration>,
        body: Option<&[u8]>,
    ) -> Failure {
        if let Some(body) = body {
            self.sink.bytes(body.len() as u64);
            if status == 400 {
                if let Ok(err) = serde_json::from_slice::<ApiError>(body) {
                    if matches!(err.param.as_deref(), Some("since" | "Last-Event-ID")) {
                        self.cursor = Some(0);
                        self.last_event_id = None;
                        self.seq.reset();
                    }
                }
            }
        }
        Failure {
            kind: Some(ErrorKind::Status(status)),
            retry_after: if status == 503 { retry_after } else { None },
        }
    }

    /// Whether an answer with these headers continues the stream the cursor belongs to. A server
    /// restarted with the same epoch (`--epoch-us`) serves the same ticks, so the cursor stays
    /// valid. A different epoch is a different stream whose seqs and `sseq`s start again at 1:
    /// the cursor and the baselines are dropped and the client starts over from the new
    /// journal's oldest tick. Not an error and not loss: the stream it was following no longer
    /// exists.
    pub fn same_stream(&mut self, headers: &reqwest::header::HeaderMap) -> bool {
        let Some(epoch) = headers
            .get(EPOCH_HEADER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        else {
            return true;
        };
        match self.epoch.replace(epoch) {
            Some(old) if old != epoch => {
                tracing::warn!(
                    "the server's epoch changed ({old} → {epoch}): a new stream, starting over"
                );
                self.cursor = Some(0);
                self.last_event_id = None;
                self.seq.reset();
                self.sink.new_stream(old, epoch);
                false
            }
            _ => true,
        }
    }

    /// Delivers a batch answer: gap notice first, then each tick, then the new cursor. The ticks
    /// of one answer arrived together, so they share one `recv_us`, read right after the parse.
    /// Each borrowed tick is copied into [`Self::tick`] for the checks: no allocation per tick.
    pub fn deliver_batch(&mut self, batch: &BatchRef<'_>, recv_us: u64) {
        self.established();
        if let Some(g) = batch.gap {
            self.gap(g);
        }
        if !batch.ticks.is_empty() {
            self.took_over();
        }
        for t in &batch.ticks {
            t.write_into(&mut self.tick);
            let outcome = self.seq.check(&self.tick);
            self.sink.tick(&self.tick, recv_us, outcome);
        }
        self.cursor = Some(batch.next);
        self.sink.answer(batch.ticks.len());
    }

    /// Delivers the streamed tick just decoded into [`Self::tick`] and moves the cursor past it.
    pub fn deliver_tick(&mut self, recv_us: u64) {
        self.took_over();
        let outcome = self.seq.check(&self.tick);
        self.sink.tick(&self.tick, recv_us, outcome);
        self.advance(self.tick.seq + 1);
    }

    /// A server gap notice: report it, re-baseline, and never ask for the lost range again.
    pub fn gap(&mut self, g: Gap) {
        self.sink.gap_notice(g);
        self.seq.rebase_all();
        self.advance(g.to.saturating_add(1));
    }

    fn advance(&mut self, to: u64) {
        self.cursor = Some(self.cursor.map_or(to, |c| c.max(to)));
    }

    /// A uniform random fraction of `d`.
    pub fn jitter(&mut self, d: Duration) -> Duration {
        d.mul_f64(self.rng.random::<f64>())
    }
}
