//! Delivery counting: what one batch answer or one stream chunk adds to its transport's counters
//! (ticks delivered, body bytes, gap notices).

use std::sync::atomic::Ordering::Relaxed;

use tickbench_wire::Transport;

use super::feed::Feed;
use crate::journal::{FramedRead, ReadOut};
use crate::state::AppState;

/// Counts one batch answer (poll, JSONP, long-poll, piggyback) of `bytes` body bytes.
pub fn count_batch(st: &AppState, t: Transport, out: &ReadOut, bytes: usize) {
    st.metrics.delivered(t, out.ticks.len(), bytes);
    if out.gap.is_some() {
        st.metrics.t(t).gaps.fetch_add(1, Relaxed);
    }
}

/// Counts one stream chunk of `bytes` body bytes.
pub fn count_chunk(state: &AppState, t: Transport, feed: &Feed, bytes: usize) {
    let p = state.metrics.t(t);
    if let Feed::Ticks { gap, ticks } = feed {
        p.deliveries.fetch_add(ticks.len() as u64, Relaxed);
        if gap.is_some() {
            p.gaps.fetch_add(1, Relaxed);
        }
    }
    p.bytes.fetch_add(bytes as u64, Relaxed);
}

/// Counts one journal read of a framed stream (its ticks and their framed bytes, and the gap
/// notice if any; the notice's own bytes are counted by [`count_bytes`]). Once per read, not
/// once per tick: the counters are shared by every connection.
pub fn count_framed(state: &AppState, t: Transport, r: &FramedRead) {
    let p = state.metrics.t(t);
    p.deliveries.fetch_add(r.ticks as u64, Relaxed);
    p.bytes.fetch_add(r.bytes as u64, Relaxed);
    if r.gap.is_some() {
        p.gaps.fetch_add(1, Relaxed);
    }
}

/// Counts `bytes` body bytes of a control frame (gap notice, heartbeat, `bye`).
pub fn count_bytes(state: &AppState, t: Transport, bytes: usize) {
    state.metrics.t(t).bytes.fetch_add(bytes as u64, Relaxed);
}
