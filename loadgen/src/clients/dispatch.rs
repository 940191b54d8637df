//! [`run_client`]: one simulated client, dispatched to its transport's loop; [`http_for`]: the
//! HTTP client it sends through.

use std::sync::OnceLock;

use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

use super::config::ClientConfig;
use super::sink::Sink;
use super::state::ClientState;
use super::{longpoll, nchan, piggyback, poll, streaming, ws};
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
    match c.cfg.target {
        TargetKind::Nchan => return Box::pin(nchan::run(c)).await,
        TargetKind::Tickbench | TargetKind::Pushpin => {}
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

/// The `reqwest::Client` a client of `cfg` sends through ([`Connection::client`](super::http::Connection::client)), except for a
/// WebSocket client of tickbench or Pushpin, which opens its own TCP connection and sends
/// nothing through reqwest: it gets one idle client shared by the process instead of a pool,
/// connector and TLS configuration of its own held for nothing.
pub fn http_for(cfg: &ClientConfig) -> reqwest::Client {
    let uses_http = match cfg.target {
        TargetKind::Nchan => true,
        TargetKind::Tickbench | TargetKind::Pushpin => match cfg.transport {
            Transport::Ws => false,
            Transport::Poll
            | Transport::Jsonp
            | Transport::Piggyback
            | Transport::Longpoll
            | Transport::Stream
            | Transport::Sse
            | Transport::Multipart
            | Transport::Iframe => true,
        },
    };
    if uses_http {
        return cfg.connection.client(cfg.local_addr);
    }
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
            sizes[6].1 <= 64,
            "the dispatch holds only the boxed loop: {sizes:?}"
        );
    }
}
