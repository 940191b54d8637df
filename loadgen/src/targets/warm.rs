//! Pushpin's warm subscriptions: two streams the GRIP backend opens through Pushpin itself at
//! start-up (`/_warm/sse`, `/_warm/stream`), held on every symbol's channel and [`ALL_CHANNEL`],
//! and drained for the whole run.
//!
//! Why: Pushpin's handler sequences a channel (remembers its last id, holds an item whose
//! `prev-id` it has not seen, detects a hold that missed an item) only while some connection
//! subscribes to it; and one second after a channel's first subscription it re-asks the backend
//! for every session on that channel through a limiter of 10 requests per second, holding their
//! deliveries meanwhile (measured: with 50 fresh SSE clients on ~150 new channels, p50 470-780 ms,
//! p99 2.5-3.7 s). With every channel subscribed before the clients connect, a long-poll hold that
//! missed an item is always detected (Pushpin re-asks the backend, which answers from the
//! journal), and clients never wait behind that limiter. The cost is two extra subscribers per
//! tick, inside Pushpin's CPU figure (negligible against thousands of clients watching every
//! symbol; visible with a few clients on narrow watchlists).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tickbench_wire::Symbols;

use super::ALL_CHANNEL;

/// The warm streams: SSE-and-long-poll channels (`sse:`) and NDJSON channels (`ndjson:`).
const PATHS: [&str; 2] = ["/_warm/sse", "/_warm/stream"];

/// How long a warm stream must stay open to count as held.
const SETTLE: Duration = Duration::from_millis(300);

/// Pushpin's `SUBSCRIBED_DELAY`: a channel's first subscription re-asks its sessions this long
/// after it started; the clients connect after that.
const SUBSCRIBED_DELAY: Duration = Duration::from_millis(1100);

/// What the backend and its warm streams share.
#[derive(Debug, Default)]
pub struct Warm {
    channels: OnceLock<Vec<String>>,
    /// Warm streams Pushpin is holding.
    held: AtomicUsize,
}

impl Warm {
    /// Every channel to keep subscribed, once the symbols are known.
    pub fn channels(&self) -> Option<&[String]> {
        self.channels.get().map(Vec::as_slice)
    }

    /// Waits until both streams are held and Pushpin's post-subscription refresh has passed.
    pub fn wait(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.held.load(Ordering::Relaxed) < PATHS.len() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(SUBSCRIBED_DELAY);
        true
    }
}

/// Reads the symbols from `source`, then keeps both warm streams open through `pushpin`.
pub async fn run(pushpin: String, source: String, warm: std::sync::Arc<Warm>) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_else(|e| panic!("building the HTTP client cannot fail without TLS: {e}"));
    let symbols = loop {
        match http.get(format!("{source}/symbols")).send().await {
            Ok(r) => match r.json::<Symbols>().await {
                Ok(s) => break s,
                Err(e) => tracing::warn!("warm: {source}/symbols: {e}"),
            },
            Err(e) => tracing::warn!("warm: {source}/symbols: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut channels: Vec<String> = symbols.symbols.into_iter().map(|s| s.sym).collect();
    channels.push(ALL_CHANNEL.to_string());
    let _ = warm.channels.set(channels);
    let streams = PATHS.map(|path| hold(http.clone(), format!("{pushpin}{path}"), warm.clone()));
    futures_util::future::join_all(streams).await;
}

/// One warm stream: open, drain, reopen after any end. It counts as held once it delivers or
/// has stayed open for [`SETTLE`] (Pushpin answers 200 before it accepts or refuses the hold).
async fn hold(http: reqwest::Client, url: String, warm: std::sync::Arc<Warm>) {
    let mut counted = false;
    loop {
        match http.get(&url).send().await {
            Ok(mut r) if r.status().is_success() => loop {
                match tokio::time::timeout(SETTLE, r.chunk()).await {
                    // Still open, or delivering: held.
                    Err(_) | Ok(Ok(Some(_))) => {
                        if !counted {
                            counted = true;
                            warm.held.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Ok(None) | Err(_)) => {
                        tracing::warn!("warm: {url} ended; reopening");
                        break;
                    }
                }
            },
            Ok(r) => tracing::warn!("warm: {url} answered {}", r.status()),
            Err(e) => tracing::warn!("warm: {url}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
