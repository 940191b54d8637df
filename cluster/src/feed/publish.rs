//! Sending the journal's ticks to JetStream in seq order, each with `Nats-Msg-Id: <seq>` and
//! `Nats-Expected-Last-Sequence: <seq − 1>`, so the stream sequence stays the tick seq (see
//! `tickbench_server::feed::nats`). Sends are pipelined a batch at a time and the acks awaited
//! together; after any failure (NATS away, an ack timeout, a refused sequence) the publisher asks
//! the stream for its newest sequence and continues after it, so a tick is neither lost nor
//! stored twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, context::Publish, stream::Stream};
use bytes::Bytes;
use tickbench_server::feed::nats::subject;
use tickbench_server::journal::{Journal, SymFilter};
use tokio_util::sync::CancellationToken;

/// Ticks sent before their acks are awaited.
const BATCH: usize = 2048;
/// Wait before trying again after a failure.
const RETRY: Duration = Duration::from_millis(250);

/// The publisher's state.
pub struct Publisher {
    pub js: jetstream::Context,
    pub stream: Stream,
    pub journal: Arc<Journal>,
    /// Seq of the newest tick JetStream has acknowledged.
    pub acked: Arc<AtomicU64>,
}

impl Publisher {
    /// Publishes from `cursor` (the first tick JetStream lacks) until `cancel`.
    pub async fn run(mut self, mut cursor: u64, cancel: CancellationToken) {
        let mut head = self.journal.subscribe();
        loop {
            while self.journal.next_seq() <= cursor {
                tokio::select! {
                    r = head.changed() => if r.is_err() { return },
                    () = cancel.cancelled() => return,
                }
            }
            let out = self
                .journal
                .read(cursor, &SymFilter::all(), BATCH, usize::MAX);
            if let Some(gap) = out.gap {
                // The journal no longer holds what JetStream lacks (NATS was away for longer
                // than the retention): move the stream's sequence past the hole, so the seqs
                // stay aligned and every edge reports the same gap.
                tracing::error!(
                    from = gap.from,
                    to = gap.to,
                    "NATS was away longer than the retention: these ticks are lost"
                );
                if let Err(e) = self.stream.purge().sequence(gap.to + 1).await {
                    tracing::warn!("cannot move the stream past the gap: {e}");
                    self.wait(&cancel).await;
                    continue;
                }
                cursor = gap.to + 1;
                continue;
            }
            let sent = tokio::select! {
                r = send(&self.js, &out.ticks) => r,
                () = cancel.cancelled() => return,
            };
            match sent {
                Ok(()) => {
                    cursor = out.next;
                    self.acked.store(cursor - 1, Ordering::Release);
                }
                Err(e) => {
                    tracing::warn!("publishing to NATS: {e}; resuming from the stream's newest");
                    self.wait(&cancel).await;
                    if let Some(last) = self.resync(&cancel).await {
                        cursor = last + 1;
                        self.acked.store(last, Ordering::Release);
                    }
                }
            }
        }
    }

    async fn wait(&self, cancel: &CancellationToken) {
        tokio::select! {
            () = tokio::time::sleep(RETRY) => {}
            () = cancel.cancelled() => {}
        }
    }

    /// The stream's newest sequence, asked until NATS answers (`None` when cancelled).
    async fn resync(&mut self, cancel: &CancellationToken) -> Option<u64> {
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            match self.stream.info().await {
                Ok(info) => return Some(info.state.last_sequence),
                Err(e) => tracing::debug!("stream info: {e}"),
            }
            self.wait(cancel).await;
        }
    }
}

/// Sends `ticks` pipelined and awaits every ack; an ack for another sequence is an error.
async fn send(js: &jetstream::Context, ticks: &[(u64, Bytes)]) -> Result<(), String> {
    let mut acks = Vec::with_capacity(ticks.len());
    for (seq, json) in ticks {
        let sym = sym_of(json).ok_or_else(|| format!("tick {seq} has no symbol"))?;
        let mut p = Publish::build()
            .payload(json.clone())
            .message_id(seq.to_string());
        if *seq > 1 {
            p = p.expected_last_sequence(seq - 1);
        }
        let ack = js
            .send_publish(subject(sym), p)
            .await
            .map_err(|e| e.to_string())?;
        acks.push((*seq, ack));
    }
    for (seq, ack) in acks {
        let a = ack.await.map_err(|e| format!("tick {seq}: {e}"))?;
        if a.sequence != seq {
            return Err(format!(
                "tick {seq} was stored as stream sequence {}",
                a.sequence
            ));
        }
    }
    Ok(())
}

/// The `sym` of a tick's JSON as the journal encodes it (`..."sym":"AAPL",...`).
fn sym_of(json: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"sym\":\"";
    let start = json.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let len = json[start..].iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&json[start..start + len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_symbol_of_an_encoded_tick() {
        let json = br#"{"seq":1,"sseq":1,"sym":"BRK.B","bid":1.00,"ask":1.02,"last":1.01,"size":1,"ts":5}"#;
        assert_eq!(sym_of(json), Some("BRK.B"));
        assert_eq!(sym_of(b"{}"), None);
    }
}
