//! Delivery counting: what one batch answer or one stream chunk adds to its transport's counters
//! (ticks delivered, body bytes, gap notices).

use std::sync::atomic::Ordering::Relaxed;

use tickbench_wire::Transport;

use super::feed::Feed;
use crate::journal::ReadOut;
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
