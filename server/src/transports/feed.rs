//! The cursor-following feed a stream reads when its format is not framed once at publish
//! time: what the next chunk of a stream says (ticks as JSON, a heartbeat, or `bye`), read from
//! the journal only when the connection can take more. The HTTP streams use [`super::framed`],
//! which follows the journal the same way but delivers frames shared by every stream.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use tickbench_wire::{now_micros, Gap, Transport};
use tokio::time::Instant;

use crate::conn::{Conn, ConnCtl};
use crate::journal::SymFilter;
use crate::metrics::OpenGuard;
use crate::state::AppState;
use crate::wakeups::Registration;

/// Most ticks one stream chunk carries.
pub const CHUNK_TICKS: usize = 4_096;
/// About the most tick JSON bytes one stream chunk carries.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// One thing a stream has to say.
#[derive(Debug)]
pub enum Feed {
    /// Every pending matching tick (up to a chunk's worth), after a gap notice if any.
    Ticks {
        gap: Option<Gap>,
        ticks: Vec<(u64, Bytes)>,
    },
    /// Nothing to say for a heartbeat interval; server clock, µs.
    Heartbeat(u64),
    /// The server is shutting down; the stream ends after this.
    Bye,
}

struct FeedState {
    state: Arc<AppState>,
    cursor: u64,
    filter: SymFilter,
    /// Woken by publishes of the symbols it watches (see `crate::wakeups`).
    wait: Registration,
    heartbeat_at: Instant,
    /// The connection, told when the stream stands at the journal head.
    conn: Option<Arc<ConnCtl>>,
    done: bool,
    _open: OpenGuard,
}

impl FeedState {
    /// The stream stands at the journal head.
    fn caught_up(&self) {
        if let Some(c) = &self.conn {
            c.caught_up();
        }
    }

    /// The stream waits at the journal head.
    fn waiting(&self) {
        if let Some(c) = &self.conn {
            c.waiting();
        }
    }
}

impl Drop for FeedState {
    fn drop(&mut self) {
        if let Some(c) = &self.conn {
            c.stream_ended();
        }
    }
}

/// The cursor that a stream starting at `since` reports in `X-Tickbench-Next`.
pub fn start_cursor(state: &AppState, since: u64) -> u64 {
    if since == 0 {
        state.journal.first_seq()
    } else {
        since
    }
}

/// Follows the journal from `since`: waits for a publish of a watched symbol (no polling), yields all pending
/// matching ticks at once when woken, a heartbeat when idle, and `Bye` on shutdown.
pub fn feed(
    state: Arc<AppState>,
    since: u64,
    filter: SymFilter,
    transport: Transport,
    conn: Conn,
) -> impl Stream<Item = Feed> + Send + 'static {
    let hb = state.config.heartbeat;
    let conn = conn.map(|c| c.0);
    if let Some(c) = &conn {
        c.stream_started(transport);
    }
    let fs = FeedState {
        conn,
        wait: state.journal.register(&filter),
        _open: OpenGuard::new(state.metrics.clone(), transport),
        state,
        cursor: since,
        filter,
        heartbeat_at: Instant::now() + hb,
        done: false,
    };
    futures_util::stream::unfold(fs, move |mut fs| async move {
        if fs.done {
            return None;
        }
        let max_behind = fs.state.config.stream_max_behind;
        if let Some(c) = &fs.conn {
            if c.cut_if_behind(max_behind, &fs.state.metrics) {
                // The connection task is resetting the socket and drops this body with it. Send no
                // frame and do not end the body: a `bye` or a clean end would only queue behind the
                // data the reset discards, and a completed response could let hyper close the
                // connection gracefully first.
                std::future::pending::<()>().await;
            }
        }
        loop {
            if fs.state.cancel.is_cancelled() {
                fs.done = true;
                return Some((Feed::Bye, fs));
            }
            // Clear the wake-up *before* reading, so a publish racing with the read still
            // wakes the `notified()` below.
            fs.wait.reset();
            let out = fs
                .state
                .journal
                .read(fs.cursor, &fs.filter, CHUNK_TICKS, CHUNK_BYTES);
            fs.cursor = out.next;
            if fs.cursor >= fs.state.journal.next_seq() {
                fs.caught_up();
            }
            if out.gap.is_some() || !out.ticks.is_empty() {
                fs.heartbeat_at = Instant::now() + hb;
                return Some((
                    Feed::Ticks {
                        gap: out.gap,
                        ticks: out.ticks,
                    },
                    fs,
                ));
            }
            if fs.cursor < fs.state.journal.next_seq() {
                // The scan was capped (sparse watchlist): keep going, but let others run.
                tokio::task::yield_now().await;
                continue;
            }
            fs.waiting();
            let woke = tokio::select! {
                biased;
                _ = fs.state.cancel.cancelled() => {
                    fs.done = true;
                    return Some((Feed::Bye, fs));
                }
                _ = fs.wait.notified() => None,
                _ = tokio::time::sleep_until(fs.heartbeat_at) => {
                    fs.heartbeat_at = Instant::now() + hb;
                    Some(Feed::Heartbeat(now_micros()))
                }
            };
            // It stood at the head until now.
            fs.caught_up();
            if let Some(f) = woke {
                return Some((f, fs));
            }
        }
    })
}
