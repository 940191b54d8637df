//! [`ConnCtl`]: the control handle of what one stream runs on (an HTTP/1.1 connection, or one
//! stream of an HTTP/2 connection), through which a stream that fell too far behind asks to be
//! reset (see `transports` § Slow consumers).
//!
//! # What a reset means on a multiplexed connection
//! On HTTP/1.1 a stream owns its connection: the reset is a TCP RST (`SO_LINGER` 0), which also
//! discards what waits in the kernel for the slow reader. On HTTP/2 one connection carries many
//! streams (browser tabs of one origin), so a slow *stream* is reset alone, with `RST_STREAM`
//! (the response body ends with an error, which hyper turns into `RST_STREAM(INTERNAL_ERROR)`),
//! and its neighbours keep receiving. A stream falls behind alone when its own flow-control
//! window stays closed (its reader stopped) while the connection drains; what it costs meanwhile
//! is bounded by hyper's per-stream send buffer. When *every* stream of an HTTP/2 connection is
//! behind, the connection itself is not draining (a slow link, a stopped process) and the whole
//! connection is reset as on HTTP/1.1, since an `RST_STREAM` would only queue behind the data it
//! means to discard. A stream whose window is shut is not polled by hyper, so its
//! `RST_STREAM` goes out when the window next opens or with the connection ([`Streams::sweep`]).
//!
//! An HTTP/1.1 connection can be upgraded (a WebSocket): hyper hands the socket to the session,
//! which keeps the connection's slot while it runs ([`ConnCtl::session_started`]) and is reset
//! through the same handle, the socket closing with RST ([`ResetIo`]).

use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::task::AtomicWaker;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tickbench_wire::Transport;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::fanout::Slot;
use crate::metrics::Metrics;

/// How often a connection task checks whether its streams fell too far behind, for
/// `max_behind`: the body is polled (and checks itself) only when the client drains enough for
/// the connection to write, which for a very slow reader can take many seconds.
pub fn watch_period(max_behind: Duration) -> Duration {
    (max_behind / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
}

/// The connection a stream runs on, as handlers extract it (absent when the router is served
/// by something other than `serve::accept_loop`, e.g. `oneshot` in a test; such streams are
/// never reset).
pub type Conn = Option<axum::Extension<Arc<ConnCtl>>>;

/// One stream carrier's control handle, handed to every request as an extension
/// (`Extension<Arc<ConnCtl>>`): one per HTTP/1.1 connection (shared by its requests, which
/// follow each other), one per HTTP/2 request. A stream reports when it stands at the journal
/// head, and is reset when it has not for longer than
/// [`Config::stream_max_behind`](crate::config::Config::stream_max_behind).
#[derive(Debug, Default)]
pub struct ConnCtl {
    /// Set once a reset is asked; sticky, so an early ask is not lost.
    reset: AtomicBool,
    /// Who acts on the reset: the HTTP/1.1 connection task, or the HTTP/2 stream's [`CutBody`].
    waker: AtomicWaker,
    /// The stream running here (HTTP/1: at most one per connection), and when it last stood at
    /// the journal head (`None` while it waits there for new ticks).
    stream: Mutex<Option<(Transport, Option<Instant>)>>,
    /// HTTP/1.1: the socket, set to close with RST when a reset is asked, whoever drops it then
    /// (hyper, or the upgraded session that owns it after an upgrade). `None` for an HTTP/2
    /// stream, whose reset is `RST_STREAM`.
    socket: Option<ResetFlag>,
    /// Cancelled when the upgraded session on this connection (a WebSocket) ends: hyper hands
    /// the socket over at the upgrade and its connection future completes, but the connection
    /// task waits on this, so the connection keeps its slot (`--max-conns`) and shutdown waits
    /// for the session's close handshake.
    session: Mutex<Option<CancellationToken>>,
    /// HTTP/1.1: the connection writes the response to the request being answered itself
    /// (`crate::direct`), and takes a stream's body as ready-made HTTP/1.1 chunks.
    writes_chunks: AtomicBool,
    /// A plain (not TLS) HTTP/1.1 connection's socket, for the fan-out writer to write a
    /// stream's ticks to while the stream is parked with it (`crate::fanout`).
    raw: Option<Arc<Slot>>,
}

/// A response extension: the body's data frames are already HTTP/1.1 chunks (the stream saw
/// [`ConnCtl::writes_chunks`]), to be written as they are.
#[derive(Debug, Clone, Copy)]
pub struct PreChunked;

impl ConnCtl {
    /// The handle of an HTTP/1.1 connection whose socket is `socket` (`raw`: the socket
    /// itself, when the connection is plain TCP).
    pub fn for_socket(socket: ResetFlag, raw: Option<Arc<Slot>>) -> ConnCtl {
        ConnCtl {
            socket: Some(socket),
            raw,
            ..ConnCtl::default()
        }
    }

    /// The plain socket's slot, where a stream written by the connection itself may be parked
    /// (see `crate::fanout`): `None` unless the connection is plain TCP and writes the response
    /// itself ([`ConnCtl::writes_chunks`]).
    pub fn fanout_slot(&self) -> Option<&Arc<Slot>> {
        self.raw.as_ref().filter(|_| self.writes_chunks())
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(Transport, Option<Instant>)>> {
        self.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the connection writes this request's response itself, taking a stream's body as
    /// HTTP/1.1 chunks (see [`PreChunked`]).
    pub fn writes_chunks(&self) -> bool {
        self.writes_chunks.load(Relaxed)
    }

    /// Set while the connection writes the response itself (see [`ConnCtl::writes_chunks`]).
    pub fn set_writes_chunks(&self, on: bool) {
        self.writes_chunks.store(on, Relaxed);
    }

    /// A stream starts here (counts as caught up: it has had no time yet).
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

    /// Whether a stream runs here, and if so how long it has not been at the head (zero while it
    /// waits there).
    fn behind(&self) -> Option<Duration> {
        self.slot()
            .as_ref()
            .map(|(_, at)| at.map_or(Duration::ZERO, |at| at.elapsed()))
    }

    /// If the stream has not caught up for longer than `max` (0 = never): counts it, asks for
    /// the reset, and returns true.
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
        metrics.t(t).slow_closes.fetch_add(1, Relaxed);
        tracing::debug!(
            transport = t.name(),
            "slow consumer: not caught up with the head for {behind:?}, resetting its stream"
        );
        self.ask_reset();
        true
    }

    fn ask_reset(&self) {
        if let Some(s) = &self.socket {
            s.set();
        }
        self.reset.store(true, Release);
        self.waker.wake();
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

    /// Ready once a reset was asked (registers the waker of `cx` otherwise).
    pub fn poll_reset(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.reset.load(Acquire) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.reset.load(Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Resolves when the stream asked for a reset (or already had).
    pub async fn reset_asked(&self) {
        std::future::poll_fn(|cx| self.poll_reset(cx)).await
    }
}

/// The streams of one HTTP/2 connection: one [`ConnCtl`] per request, held weakly (a finished
/// request's handle goes away with its body).
#[derive(Debug, Default)]
pub struct Streams {
    list: Mutex<StreamList>,
    /// Whether any request arrived yet (a connection that never sends one is cut at the header
    /// timeout).
    used: AtomicBool,
}

#[derive(Debug, Default)]
struct StreamList {
    ctls: Vec<Weak<ConnCtl>>,
    /// Length at which dead entries are next pruned (amortises the pruning).
    prune_at: usize,
}

impl Streams {
    /// A handle for a new request on this connection.
    pub fn open(&self) -> Arc<ConnCtl> {
        self.used.store(true, Relaxed);
        let ctl = Arc::new(ConnCtl::default());
        let mut l = self.list.lock().unwrap_or_else(|e| e.into_inner());
        if l.ctls.len() >= l.prune_at {
            l.ctls.retain(|w| w.strong_count() > 0);
            l.prune_at = (l.ctls.len() * 2).max(32);
        }
        l.ctls.push(Arc::downgrade(&ctl));
        ctl
    }

    /// Whether a request arrived on this connection yet.
    pub fn used(&self) -> bool {
        self.used.load(Relaxed)
    }

    /// The periodic check: resets (`RST_STREAM`) every stream behind the head for longer than
    /// `max`, and returns true when every stream running on the connection was behind: the
    /// connection itself is not draining and must be reset (see the module docs).
    pub fn sweep(&self, max: Duration, metrics: &Metrics) -> bool {
        let live: Vec<Arc<ConnCtl>> = {
            let mut l = self.list.lock().unwrap_or_else(|e| e.into_inner());
            l.ctls.retain(|w| w.strong_count() > 0);
            l.ctls.iter().filter_map(Weak::upgrade).collect()
        };
        let running = live.iter().filter(|c| c.behind().is_some()).count();
        let mut cut = 0;
        for c in &live {
            if c.cut_if_behind(max, metrics) {
                cut += 1;
            }
        }
        cut > 0 && cut == running
    }
}

/// An HTTP/2 response body that ends with an error (hyper sends `RST_STREAM`) once its stream's
/// [`ConnCtl`] asks for a reset.
pub struct CutBody {
    inner: Body,
    ctl: Arc<ConnCtl>,
}

impl CutBody {
    pub fn new(inner: Body, ctl: Arc<ConnCtl>) -> CutBody {
        CutBody { inner, ctl }
    }
}

impl HttpBody for CutBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.ctl.poll_reset(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(std::io::Error::other(
                "slow consumer: stream reset",
            )))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The accepted TCP socket, closed with RST (`SO_LINGER` 0: the kernel discards what it still
/// buffers for the peer) instead of FIN when dropped after [`ResetFlag::set`]. Whatever is layered
/// on it (TLS, hyper) is dropped with it, so the flag is how the connection task reaches it.
#[derive(Debug)]
pub struct ResetIo {
    tcp: TcpStream,
    flag: ResetFlag,
    /// The fan-out writer's way to the socket, closed before `tcp` is.
    raw: Arc<Slot>,
}

/// Shared with [`ResetIo`]: set it, then drop the connection, to reset the socket.
#[derive(Debug, Clone, Default)]
pub struct ResetFlag(Arc<AtomicBool>);

impl ResetFlag {
    pub fn set(&self) {
        self.0.store(true, Relaxed);
    }
}

impl ResetIo {
    pub fn new(tcp: TcpStream, flag: ResetFlag) -> ResetIo {
        let raw = Arc::new(Slot::new(tcp.as_raw_fd()));
        ResetIo { tcp, flag, raw }
    }

    /// The socket's slot, for the fan-out writer; unusable once this is dropped.
    pub fn fanout_slot(&self) -> Arc<Slot> {
        self.raw.clone()
    }
}

impl Drop for ResetIo {
    fn drop(&mut self) {
        self.raw.close();
        if self.flag.0.load(Relaxed) {
            if let Err(e) = self.tcp.set_zero_linger() {
                tracing::debug!("SO_LINGER 0: {e}");
            }
        }
    }
}

impl AsyncRead for ResetIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResetIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
