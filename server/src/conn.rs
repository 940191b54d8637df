//! [`ConnCtl`]: one connection's control handle, through which its stream asks for a reset when
//! it falls too far behind (see `transports` § Slow consumers), and an upgraded session (a
//! WebSocket) keeps the connection's slot while it runs.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tickbench_wire::Transport;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::metrics::Metrics;

/// The connection a stream runs on, as handlers extract it (absent when the router is served
/// by something other than `serve::accept_loop`, e.g. `oneshot` in a test; such streams are
/// never reset).
pub type Conn = Option<axum::Extension<Arc<ConnCtl>>>;

/// One connection's control handle, handed to every request on it as an extension
/// (`Extension<Arc<ConnCtl>>`): a stream on the connection reports when it stands at the
/// journal head, and the connection is reset when it has not for longer than
/// [`Config::stream_max_behind`](crate::config::Config::stream_max_behind).
#[derive(Debug, Default)]
pub struct ConnCtl {
    /// Wakes the connection task to reset the socket; a permit, so an early ask is not lost.
    reset: Notify,
    /// The stream running on this connection (HTTP/1: at most one), and when it last stood at
    /// the journal head (`None` while it waits there for new ticks).
    stream: Mutex<Option<(Transport, Option<Instant>)>>,
    /// A reset was asked: the socket closes with RST when dropped (`serve::ResetIo`), whether
    /// hyper or an upgraded session holds it then.
    resetting: AtomicBool,
    /// Cancelled when the upgraded session on this connection (a WebSocket) ends: hyper hands
    /// the socket over at the upgrade and its connection future completes, but the connection
    /// task waits on this, so the connection keeps its slot (`--max-conns`) and shutdown waits
    /// for the session's close handshake.
    session: Mutex<Option<CancellationToken>>,
}

impl ConnCtl {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(Transport, Option<Instant>)>> {
        self.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A stream starts on this connection (counts as caught up: it has had no time yet).
    pub fn stream_started(&self, t: Transport) {
        *self.slot() = Some((t, Some(Instant::now())));
    }

    /// The stream stands at the journal head now.
    pub fn caught_up(&self) {
        if let Some((_, at)) = self.slot().as_mut() {
            *at = Some(Instant::now());
        }
    }

    /// The stream waits at the journal head for new ticks (caught up until it says otherwise).
    pub fn waiting(&self) {
        if let Some((_, at)) = self.slot().as_mut() {
            *at = None;
        }
    }

    /// The stream ended (its body was dropped).
    pub fn stream_ended(&self) {
        *self.slot() = None;
    }

    /// If the stream has not caught up for longer than `max` (0 = never): counts it, asks the
    /// connection task to reset the connection, and returns true.
    pub fn cut_if_behind(&self, max: Duration, metrics: &Metrics) -> bool {
        if max.is_zero() {
            return false;
        }
        let mut slot = self.slot();
        let Some((t, Some(at))) = *slot else {
            return false;
        };
        let behind = at.elapsed();
        if behind <= max {
            return false;
        }
        *slot = None;
        drop(slot);
        self.resetting.store(true, Relaxed);
        metrics.t(t).slow_closes.fetch_add(1, Relaxed);
        tracing::debug!(
            transport = t.name(),
            "slow consumer: not caught up with the head for {behind:?}, resetting the connection"
        );
        // `notify_one` stores a permit, so a reset asked before the task waits is not lost.
        self.reset.notify_one();
        true
    }

    /// Resolves when the stream asked for a reset (or already had).
    pub async fn reset_asked(&self) {
        self.reset.notified().await;
    }

    /// Whether a reset was asked: the socket is to close with RST.
    pub fn resetting(&self) -> bool {
        self.resetting.load(Relaxed)
    }

    /// An upgraded session starts on this connection; it ends when the guard is dropped.
    pub fn session_started(&self) -> DropGuard {
        let token = CancellationToken::new();
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        token.drop_guard()
    }

    /// Resolves when the upgraded session, if one was started, has ended (at once if none was).
    pub async fn session_ended(&self) {
        let token = self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(t) = token {
            t.cancelled().await;
        }
    }
}
