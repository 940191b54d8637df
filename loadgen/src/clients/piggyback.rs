//! Piggyback: no request exists just to fetch ticks. The client makes its own application requests
//! (look up a quote, place an order) as a Poisson process, and every answer carries the ticks since
//! its cursor (`?since=`), flattened into the application JSON. Latency is therefore bounded by
//! how often the user acts, which is the point of measuring it.

use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, RngExt};
use tickbench_wire::framing::decode_batch_ref;
use tickbench_wire::{now_micros, OrderRequest, Side, Symbols};
use tokio::time::Instant;

use super::http::push_symbols;
use super::sink::{ErrorKind, Sink};
use super::state::ClientState;

/// Share of actions that are quote lookups; the rest are orders.
pub const QUOTE_SHARE: f64 = 0.7;

/// Without a watchlist the client acts on this many of the most popular symbols.
const TOP_SYMBOLS: usize = 16;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Exponential inter-arrival time of a Poisson process of `rate` per second.
fn exp_interval(rng: &mut impl Rng, rate: f64) -> Duration {
    let u: f64 = rng.random();
    Duration::from_secs_f64((-(1.0 - u).ln() / rate).min(3600.0))
}

pub(crate) async fn run<S: Sink>(c: &mut ClientState<S>) {
    let rate = c.cfg.action_rate;
    if !(rate.is_finite() && rate > 0.0) {
        // A user who never acts never sees a tick: nothing to do.
        return std::future::pending().await;
    }
    let syms = match c.cfg.symbols.clone() {
        Some(s) if !s.is_empty() => s,
        _ => top_symbols(c).await,
    };
    let mut due = Instant::now() + exp_interval(&mut c.rng, rate);
    loop {
        tokio::time::sleep_until(due).await;
        let lag = Instant::now().saturating_duration_since(due);
        c.sink.schedule_lag(lag.as_micros() as u64);
        due += exp_interval(&mut c.rng, rate);

        let sym = &syms[c.rng.random_range(0..syms.len())];
        let req = if c.rng.random_bool(QUOTE_SHARE) {
            // The quote lookup is the transport's own path, `/api/quote/SYM`.
            c.begin_url(c.cfg.transport.path());
            // begin_url appended the query; rebuild with the symbol in the path.
            let query_at = c.url.find('?').unwrap_or(c.url.len());
            let query = c.url.split_off(query_at);
            c.url.push('/');
            push_segment(&mut c.url, sym);
            c.url.push_str(&query);
            c.http.get(c.url.as_str())
        } else {
            c.begin_url("/api/orders");
            let order = OrderRequest {
                sym: sym.clone(),
                side: if c.rng.random_bool(0.5) {
                    Side::Buy
                } else {
                    Side::Sell
                },
                qty: 100 * c.rng.random_range(1..=10),
                limit: None,
            };
            c.http.post(c.url.as_str()).json(&order)
        };
        let res = match c.fetch(req.timeout(REQUEST_TIMEOUT)).await {
            // The quote / order part of the answer is ignored: only the batch fields matter here.
            Ok(body) => {
                let parsed = decode_batch_ref(&body);
                let recv_us = now_micros();
                parsed
                    .map(|b| c.deliver_batch(&b, recv_us))
                    .map_err(|_| ErrorKind::Parse.into())
            }
            Err(f) => Err(f),
        };
        if let Err(f) = res {
            c.fail(f).await;
            due = Instant::now() + exp_interval(&mut c.rng, rate);
        }
    }
}

/// Appends a percent-encoded path segment.
fn push_segment(url: &mut String, seg: &str) {
    // Reuse the query encoder: it escapes everything outside the unreserved set.
    let mut tmp = String::new();
    push_symbols(&mut tmp, std::slice::from_ref(&seg.to_string()));
    url.push_str(&tmp["?symbols=".len()..]);
}

/// The most popular symbols from `GET /symbols`, retried until the server answers.
async fn top_symbols<S: Sink>(c: &mut ClientState<S>) -> Arc<[String]> {
    loop {
        c.url.clear();
        c.url.push_str(c.cfg.base.as_str().trim_end_matches('/'));
        c.url.push_str("/symbols");
        let req = c.http.get(c.url.as_str()).timeout(REQUEST_TIMEOUT);
        let res = match c.fetch(req).await {
            Ok(body) => serde_json::from_slice::<Symbols>(&body)
                .ok()
                .filter(|s| !s.symbols.is_empty())
                .ok_or(ErrorKind::Parse.into()),
            Err(f) => Err(f),
        };
        match res {
            Ok(s) => {
                return s
                    .symbols
                    .into_iter()
                    .take(TOP_SYMBOLS)
                    .map(|s| s.sym)
                    .collect()
            }
            Err(f) => c.fail(f).await,
        }
    }
}
