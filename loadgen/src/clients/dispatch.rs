//! [`run_client`]: one simulated client, dispatched to its transport's loop; [`http_for`] and
//! [`HttpClients`]: the HTTP client it sends through.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;

use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

use super::config::ClientConfig;
use super::http::Connection;
use super::sink::Sink;
use super::state::ClientState;
use super::{longpoll, nchan, piggyback, poll, pushpin, streaming, ws};
use crate::targets::TargetKind;

/// Runs one simulated client until `cancel` fires. Never returns early: every failure is counted
/// through `sink` and retried. Dropping the future (or cancelling) closes its connection.
///
/// The future is `Send` when `S` is, so it runs on per-worker current-thread runtimes with `Rc`
/// sinks as well as on a multi-thread runtime with an `Arc` sink.
pub async fn run_client<S: Sink>(
    cfg: ClientConfig,
    http: reqwest::Client,
    sink: S,
    cancel: CancellationToken,
) {
    let mut client = ClientState::new(cfg, http, sink);
    tokio::select! {
        biased;
        _ = cancel.cancelled() => {}
        _ = run_transport(&mut client) => {}
    }
    client.shutdown();
}

/// The transport's loop, boxed: a future holds room for its largest await, so an unboxed match
/// over every loop would make each client's task as large as the largest loop (the WebSocket
/// one, 3.2 KB) whatever its transport; boxed, a client holds its own loop and no more.
async fn run_transport<S: Sink>(c: &mut ClientState<S>) {
    match (c.cfg.target, c.cfg.transport) {
        (TargetKind::Nchan, _) => return Box::pin(nchan::run(c)).await,
        (TargetKind::Pushpin, Transport::Ws) => return Box::pin(pushpin::run(c)).await,
        (TargetKind::Tickbench | TargetKind::Pushpin, _) => {}
    }
    match c.cfg.transport {
        Transport::Poll => Box::pin(poll::run(c, false)).await,
        Transport::Jsonp => Box::pin(poll::run(c, true)).await,
        Transport::Piggyback => Box::pin(piggyback::run(c)).await,
        Transport::Longpoll => Box::pin(longpoll::run(c)).await,
        Transport::Stream | Transport::Sse | Transport::Multipart | Transport::Iframe => {
            Box::pin(streaming::run(c)).await
        }
        Transport::Ws => Box::pin(ws::run(c)).await,
    }
}

/// The `reqwest::Client` a client of `cfg` sends through
/// ([`Connection::client`](super::http::Connection::client)), except for a WebSocket client of
/// tickbench or Pushpin, which opens its own TCP connection and sends nothing through reqwest:
/// it gets one idle client shared by the process instead of a pool, connector and TLS
/// configuration of its own held for nothing.
pub fn http_for(cfg: &ClientConfig) -> reqwest::Client {
    match use_of_http(cfg) {
        HttpUse::Requests | HttpUse::Streams => cfg.connection.client(cfg.local_addr),
        HttpUse::None => idle_client(),
    }
}

/// The HTTP clients of one worker's phase: each client's own ([`http_for`]), except that the
/// HTTP/1.1 stream clients of one source address share one `reqwest::Client`. A stream holds its
/// connection for as long as it reads and HTTP/1.1 carries one response at a time, so the shared
/// pool still opens one connection per stream, as a browser's pool does for each tab's
/// EventSource; what they share is the pool, the connector and the TLS configuration (2.5 KB a
/// client). Request clients (polling, long-poll, piggyback) keep a client of their own: a shared
/// pool would hand keep-alive connections between them.
#[derive(Debug, Default)]
pub struct HttpClients {
    streams: HashMap<Option<IpAddr>, reqwest::Client>,
}

impl HttpClients {
    /// The client a client of `cfg` sends through.
    pub fn client_for(&mut self, cfg: &ClientConfig) -> reqwest::Client {
        match (use_of_http(cfg), &cfg.connection) {
            (HttpUse::Streams, Connection::Own(spec)) if !spec.http2 => self
                .streams
                .entry(cfg.local_addr)
                .or_insert_with(|| cfg.connection.client(cfg.local_addr))
                .clone(),
            _ => http_for(cfg),
        }
    }
}

/// What a client sends through reqwest.
enum HttpUse {
    /// Requests, one after another on a keep-alive connection.
    Requests,
    /// One long response per connection (a stream client of tickbench or Pushpin).
    Streams,
    /// Nothing (a WebSocket client).
    None,
}

fn use_of_http(cfg: &ClientConfig) -> HttpUse {
    match cfg.target {
        // Nchan's clients are its own loops; they keep their own client.
        TargetKind::Nchan => HttpUse::Requests,
        TargetKind::Tickbench | TargetKind::Pushpin => match cfg.transport {
            Transport::Ws => HttpUse::None,
            Transport::Stream | Transport::Sse | Transport::Multipart | Transport::Iframe => {
                HttpUse::Streams
            }
            Transport::Poll | Transport::Jsonp | Transport::Piggyback | Transport::Longpoll => {
                HttpUse::Requests
            }
        },
    }
}

/// One reqwest client for the process, for clients that send nothing through it.
fn idle_client() -> reqwest::Client {
    static IDLE: OnceLock<reqwest::Client> = OnceLock::new();
    IDLE.get_or_init(|| super::http::http_client(None)).clone()
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::stats::{ClientSink, WorkerStats};

    /// A client's task holds its future for the whole run, once per client: at 10,000 clients
    /// every kilobyte of it is ten megabytes. Each loop (boxed by `run_transport`) and the
    /// client around it stay small whatever the build profile; rare, large states (error
    /// bodies, a slow link's handshake, TLS) are boxed where they happen. Before: 3.2 KB for
    /// every loop (the WebSocket one's size) plus 0.9 KB around it.
    #[test]
    fn every_client_future_is_small() {
        const MAX: usize = 2048;
        fn size<F: std::future::Future>(f: F) -> usize {
            std::mem::size_of_val(&f)
        }
        let stats = Rc::new(RefCell::new(WorkerStats::default()));
        let cfg = ClientConfig::new("http://127.0.0.1:1/".parse().unwrap(), Transport::Sse);
        let http = super::super::http_client(None);
        let mut c = ClientState::new(cfg.clone(), http.clone(), ClientSink::new(stats.clone()));
        let sizes = [
            ("streaming", size(streaming::run(&mut c))),
            ("poll", size(poll::run(&mut c, false))),
            ("piggyback", size(piggyback::run(&mut c))),
            ("longpoll", size(longpoll::run(&mut c))),
            ("ws", size(ws::run(&mut c))),
            ("nchan", size(nchan::run(&mut c))),
            ("pushpin", size(pushpin::run(&mut c))),
            ("dispatch", size(run_transport(&mut c))),
        ];
        let client = run_client(cfg, http, ClientSink::new(stats), CancellationToken::new());
        for (name, size) in sizes
            .into_iter()
            .chain([("run_client", std::mem::size_of_val(&client))])
        {
            assert!(
                size <= MAX,
                "{name}'s future is {size} bytes (at most {MAX})"
            );
        }
        assert!(
            sizes[7].1 <= 64,
            "the dispatch holds only the boxed loop: {sizes:?}"
        );
    }

    /// HTTP/1.1 stream clients of one source address share a `reqwest::Client`, and each stream
    /// is still a connection of its own at the server; request clients get their own client.
    #[tokio::test(flavor = "current_thread")]
    async fn http1_streams_share_a_pool_but_not_connections() {
        use std::cell::Cell;
        use std::time::Duration;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        const N: u64 = 5;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base: reqwest::Url = format!("http://{}/", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let accepted = Rc::new(Cell::new(0u64));
        let server = {
            let accepted = accepted.clone();
            async move {
                let mut held = Vec::new();
                loop {
                    let (mut s, _) = listener.accept().await.unwrap();
                    accepted.set(accepted.get() + 1);
                    let mut buf = [0u8; 2048];
                    let _ = s.read(&mut buf).await.unwrap();
                    s.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                          transfer-encoding: chunked\r\n\r\n",
                    )
                    .await
                    .unwrap();
                    held.push(s);
                }
            }
        };
        let mut pools = HttpClients::default();
        let stats = Rc::new(RefCell::new(WorkerStats::default()));
        let cancel = CancellationToken::new();
        let clients: Vec<_> = (0..N)
            .map(|seed| {
                let mut cfg = ClientConfig::new(base.clone(), Transport::Sse);
                cfg.seed = seed;
                let http = pools.client_for(&cfg);
                run_client(cfg, http, ClientSink::new(stats.clone()), cancel.clone())
            })
            .collect();
        assert_eq!(pools.streams.len(), 1, "one pool for the streams");
        let _ = pools.client_for(&ClientConfig::new(base.clone(), Transport::Poll));
        let _ = pools.client_for(&ClientConfig::new(base.clone(), Transport::Ws));
        assert_eq!(
            pools.streams.len(),
            1,
            "request and ws clients are not pooled"
        );
        let all_up = async {
            while stats.borrow().connected < N {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // Long enough for a stray extra connection to show.
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        tokio::select! {
            _ = server => unreachable!("the server loops forever"),
            _ = futures_util::future::join_all(clients) => unreachable!("clients run until cancelled"),
            _ = all_up => {}
            _ = tokio::time::sleep(Duration::from_secs(20)) => panic!("streams did not open"),
        }
        assert_eq!(accepted.get(), N, "one connection per stream");
    }
}
