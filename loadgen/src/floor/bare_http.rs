//! The bare HTTP loop: the yardstick of the polling clients' own cost. The same number of
//! connections (one HTTP client each, built as the clients build theirs: `--http2`, TLS and
//! `--tabs-per-conn` included), the same worker threads, the same URLs and the same schedule as
//! a polling phase, doing nothing but send a request and read its body: no parsing, no checks,
//! no histogram. Its requests per second of
//! load-generator CPU, next to the phase's, say how much the instrument adds to what the HTTP
//! client itself costs (the goal is at least 0.8×).
//!
//! The URLs are the clients' without the cursor (`/poll?symbols=…`), so every answer is the
//! server's "nothing new yet" batch: the server's cost per request is the smallest, and what the
//! loop spends is the HTTP client's and the runtime's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickbench_wire::BareHttp;
use tokio_util::sync::CancellationToken;

use crate::clients::Connection;
use crate::procstat;

/// One connection of the loop: what a polling client of the phase would send through.
#[derive(Debug, Clone)]
pub struct BareConnection {
    pub url: String,
    /// Source address, as the client's.
    pub local_addr: Option<std::net::IpAddr>,
    /// The client's connection: HTTP/1.1 or HTTP/2 (`--http2`), plaintext or TLS, its own or
    /// shared by tabs, so the loop speaks what the clients speak.
    pub connection: Connection,
}

impl BareConnection {
    /// A plaintext HTTP/1.1 connection of its own to `url`.
    pub fn plain(url: impl Into<String>) -> Self {
        BareConnection {
            url: url.into(),
            local_addr: None,
            connection: Connection::default(),
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BareHttpConfig {
    /// One per connection.
    pub connections: Vec<BareConnection>,
    /// Time between a connection's requests, as the polling clients' (zero: back to back).
    pub interval: Duration,
    /// Worker threads (one current-thread runtime each), as the phase's.
    pub workers: usize,
    /// Unmeasured time first (connections open, schedules settle), then the measured window.
    pub warmup: Duration,
    pub duration: Duration,
}

/// Per-request timeout: an answer that takes this long counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the loop (blocking: call it off the async runtime) and returns the measured window;
/// `None` when cancelled before the window ended or `/proc` could not be read.
pub fn measure(
    cfg: BareHttpConfig,
    cancel: CancellationToken,
) -> std::io::Result<Option<BareHttp>> {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = cancel.child_token();
    let workers = cfg.workers.max(1);
    let mut shares: Vec<Vec<_>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, c) in cfg.connections.iter().cloned().enumerate() {
        shares[i % workers].push((i, c));
    }
    let n = cfg.connections.len().max(1);
    let mut threads = Vec::new();
    for (w, share) in shares.into_iter().enumerate() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (ok, failed, stop, interval) = (ok.clone(), failed.clone(), stop.clone(), cfg.interval);
        threads.push(
            std::thread::Builder::new()
                .name(format!("bare-http-{w}"))
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&rt, async move {
                        let mut set = tokio::task::JoinSet::new();
                        for (i, conn) in share {
                            // Start phases spread evenly over one interval, like the clients'
                            // jittered starts.
                            let offset = interval.mul_f64(i as f64 / n as f64);
                            let (ok, failed, stop) = (ok.clone(), failed.clone(), stop.clone());
                            set.spawn_local(async move {
                                tokio::select! {
                                    _ = stop.cancelled() => {}
                                    _ = connection(conn, interval, offset, &ok, &failed) => {}
                                }
                            });
                        }
                        while set.join_next().await.is_some() {}
                    });
                })?,
        );
    }
    let window = (|| {
        if sleep_or_cancel(cfg.warmup, &cancel) {
            return None;
        }
        let (cpu0, ok0, failed0, t0) = (
            procstat::sample(None)?.cpu,
            ok.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed),
            Instant::now(),
        );
        if sleep_or_cancel(cfg.duration, &cancel) {
            return None;
        }
        let (cpu1, ok1, failed1, t1) = (
            procstat::sample(None)?.cpu,
            ok.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed),
            Instant::now(),
        );
        Some(BareHttp {
            connections: cfg.connections.len() as u64,
            duration_s: t1.duration_since(t0).as_secs_f64(),
            requests: ok1 - ok0,
            errors: failed1 - failed0,
            loadgen_cpu_s: cpu1.saturating_sub(cpu0).as_secs_f64(),
        })
    })();
    stop.cancel();
    for t in threads {
        let _ = t.join();
    }
    Ok(window)
}

/// Sleeps `d` in short steps; true if cancelled meanwhile.
fn sleep_or_cancel(d: Duration, cancel: &CancellationToken) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if cancel.is_cancelled() {
            return true;
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(50)));
    }
    cancel.is_cancelled()
}

/// One connection: send, read the body, count; on the schedule when `interval` is not zero.
async fn connection(
    conn: BareConnection,
    interval: Duration,
    offset: Duration,
    ok: &AtomicU64,
    failed: &AtomicU64,
) {
    let http = conn.connection.client(conn.local_addr);
    let url = conn.url;
    let mut due = tokio::time::Instant::now() + offset;
    loop {
        if !interval.is_zero() {
            tokio::time::sleep_until(due).await;
            due += interval;
            let now = tokio::time::Instant::now();
            if due < now {
                due = now;
            }
        }
        let res = async {
            let resp = http.get(url.as_str()).send().await?;
            resp.bytes().await
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, res).await {
            Ok(Ok(_)) => ok.fetch_add(1, Ordering::Relaxed),
            _ => {
                failed.fetch_add(1, Ordering::Relaxed);
                // A refused or failing server must not turn this into a busy loop.
                tokio::time::sleep(Duration::from_millis(100)).await;
                0
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A tiny HTTP/1.1 server answering every request on a keep-alive connection with `{}`.
    fn server() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut pending = Vec::new();
                    loop {
                        let Ok(n) = s.read(&mut buf) else { return };
                        if n == 0 {
                            return;
                        }
                        pending.extend_from_slice(&buf[..n]);
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            pending.drain(..end + 4);
                            let r = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
                            if s.write_all(r).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        format!("http://{addr}/poll")
    }

    #[test]
    fn counts_requests_and_cpu_in_the_window() {
        let url = server();
        let cfg = BareHttpConfig {
            connections: (0..4).map(|_| BareConnection::plain(&url)).collect(),
            interval: Duration::from_millis(20),
            workers: 2,
            warmup: Duration::from_millis(200),
            duration: Duration::from_millis(600),
        };
        let m = measure(cfg, CancellationToken::new()).unwrap().unwrap();
        assert_eq!(m.connections, 4);
        assert_eq!(m.errors, 0);
        // 4 connections at 50/s for 0.6 s: about 120; the schedule bounds it from above.
        assert!(m.requests > 0 && m.requests <= 4 * 31 + 4, "{m:?}");
        assert!(m.duration_s > 0.5);
    }

    #[test]
    fn cancelled_before_the_window_ends_is_none() {
        let url = server();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let cfg = BareHttpConfig {
            connections: vec![BareConnection::plain(url)],
            interval: Duration::ZERO,
            workers: 1,
            warmup: Duration::from_secs(5),
            duration: Duration::from_secs(5),
        };
        assert_eq!(measure(cfg, cancel).unwrap(), None);
    }
}
