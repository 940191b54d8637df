//! The publisher inside `run` for a peer target: it follows the embedded tickbench server's
//! NDJSON stream (tickbench's own seeded market) and publishes every tick, unchanged (`seq`, `sseq`,
//! scheduled `ts`), through the peer's publish API — Nchan: `POST /pub/<channel>`, one message per
//! tick; Pushpin: `POST /publish/` on its publish port with the GRIP formats of every transport
//! (`http-stream`, `http-response`, `ws-message`), one request for all the ticks of one read.
//!
//! Each tick goes to its symbol's channel, or to [`ALL_CHANNEL`] when the run's clients watch every
//! symbol. Latency is still measured from the tick's scheduled `ts`, so the relay's hop is part of
//! a peer's figures (one loopback stream read and one publish request: tens of microseconds).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tickbench_wire::framing::{Frame, FrameParser, NdjsonParser};
use tickbench_wire::Tick;
use tokio_util::sync::CancellationToken;

use super::grip::publish_items;
use super::journal::Journal;
use super::nchan::publish_url;
use super::{Target, TargetKind, ALL_CHANNEL};
use crate::error::Error;

/// What the publisher has done, read by the run.
#[derive(Debug, Default)]
pub struct PublishCounts {
    /// Ticks published.
    pub published: AtomicU64,
    /// Publish requests that failed (each is logged).
    pub failed: AtomicU64,
}

/// A running publisher; dropping it stops it.
#[derive(Debug)]
pub struct Publisher {
    cancel: CancellationToken,
    thread: Option<JoinHandle<()>>,
    pub counts: Arc<PublishCounts>,
}

/// Where ticks go.
#[derive(Debug, Clone)]
struct Sink {
    target: Target,
    /// Publish to [`ALL_CHANNEL`] instead of the symbol's channel.
    all: bool,
    journal: Arc<Journal>,
}

impl Publisher {
    /// Starts following `source` (a tickbench server URL) from now and publishing to `target`.
    pub fn start(
        source: &str,
        target: &Target,
        journal: Arc<Journal>,
        all: bool,
    ) -> Result<Publisher, Error> {
        let cancel = CancellationToken::new();
        let counts = Arc::new(PublishCounts::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::os("building the publisher runtime"))?;
        let sink = Sink {
            target: target.clone(),
            all,
            journal,
        };
        let (source, c, k) = (source.to_string(), cancel.clone(), counts.clone());
        let thread = std::thread::Builder::new()
            .name("publisher".into())
            .spawn(move || {
                rt.block_on(async {
                    tokio::select! {
                        _ = c.cancelled() => {}
                        _ = relay(&source, &sink, &k) => {}
                    }
                })
            })
            .map_err(Error::os("spawning the publisher thread"))?;
        Ok(Publisher {
            cancel,
            thread: Some(thread),
            counts,
        })
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Follows the source's stream forever, resuming from its cursor after any break.
async fn relay(source: &str, sink: &Sink, counts: &PublishCounts) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .unwrap_or_else(|e| panic!("building the HTTP client cannot fail without TLS: {e}"));
    let mut since: Option<u64> = None;
    loop {
        let url = match since {
            Some(s) => format!("{source}/stream?since={s}"),
            None => format!("{source}/stream"),
        };
        let mut resp = match http.get(&url).send().await {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                tracing::warn!("publisher: {url} answered {}", r.status());
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(e) => {
                tracing::warn!("publisher: {url}: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if since.is_none() {
            since = resp
                .headers()
                .get("x-tickbench-next")
                .and_then(|v| v.to_str().ok()?.parse().ok());
        }
        let mut parser = NdjsonParser::new();
        let mut ticks = Vec::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            parser.push_bytes(&chunk);
            while let Some(frame) = parser.next_frame() {
                if let Ok(Frame::Tick(t)) = frame {
                    since = Some(t.seq + 1);
                    ticks.push(t);
                }
            }
            if !ticks.is_empty() {
                publish(&http, sink, &ticks, counts).await;
                ticks.clear();
            }
        }
    }
}

/// Appends `ticks` to the journal and publishes them, in order.
async fn publish(http: &reqwest::Client, sink: &Sink, ticks: &[Tick], counts: &PublishCounts) {
    let entries: Vec<(Arc<str>, &Tick, Option<u64>)> = ticks
        .iter()
        .map(|t| {
            let json: Arc<str> = serde_json::to_string(t).unwrap_or_default().into();
            let (prev_sym, prev_all) = sink.journal.append(t.seq, &t.sym, json.clone());
            (json, t, if sink.all { prev_all } else { prev_sym })
        })
        .collect();
    let channel = |t: &Tick| {
        if sink.all {
            ALL_CHANNEL.to_string()
        } else {
            t.sym.clone()
        }
    };
    match sink.target.kind {
        TargetKind::Nchan => {
            for (json, t, _) in &entries {
                let url = publish_url(&sink.target.url, &channel(t));
                let body = format!("{json}\n");
                let r = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                count(counts, &url, r, 1).await;
            }
        }
        TargetKind::Pushpin => {
            let items: Vec<_> = entries
                .iter()
                .map(|(json, t, prev)| (channel(t), t.seq, *prev, json.clone()))
                .collect();
            let port = sink.target.publish_port.unwrap_or(5561);
            let url = format!("http://{}:{port}/publish/", sink.target.host());
            let r = http
                .post(&url)
                .header("content-type", "application/json")
                .body(publish_items(&sink.journal, &items))
                .send()
                .await;
            count(counts, &url, r, entries.len() as u64).await;
        }
        TargetKind::Tickbench => {}
    }
}

/// Counts one publish request's outcome, reading its answer so the connection is kept.
async fn count(
    counts: &PublishCounts,
    url: &str,
    r: Result<reqwest::Response, reqwest::Error>,
    n: u64,
) {
    match r {
        Ok(r) if r.status().is_success() => {
            let _ = r.bytes().await;
            counts.published.fetch_add(n, Ordering::Relaxed);
        }
        Ok(r) => {
            counts.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("publisher: {url} answered {}", r.status());
        }
        Err(e) => {
            counts.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("publisher: {url}: {e}");
        }
    }
}
