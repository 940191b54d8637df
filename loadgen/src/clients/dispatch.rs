//! [`run_client`]: one simulated client, dispatched to its transport's loop.

use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

use super::config::ClientConfig;
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

async fn run_transport<S: Sink>(c: &mut ClientState<S>) {
    match (c.cfg.target, c.cfg.transport) {
        (TargetKind::Nchan, _) => return nchan::run(c).await,
        (TargetKind::Pushpin, Transport::Ws) => return pushpin::run(c).await,
        (TargetKind::Tickbench | TargetKind::Pushpin, _) => {}
    }
    match c.cfg.transport {
        Transport::Poll => poll::run(c, false).await,
        Transport::Jsonp => poll::run(c, true).await,
        Transport::Piggyback => piggyback::run(c).await,
        Transport::Longpoll => longpoll::run(c).await,
        Transport::Stream | Transport::Sse | Transport::Multipart | Transport::Iframe => {
            streaming::run(c).await
        }
        Transport::Ws => ws::run(c).await,
    }
}
