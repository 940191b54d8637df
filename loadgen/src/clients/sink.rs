//! [`Sink`], where a simulated client reports what happened, and the values it reports with
//! ([`SeqOutcome`], [`ErrorKind`]).

use tickbench_wire::{Gap, Tick};

/// How a tick compared with the last one this client saw of the same symbol (by `sseq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOutcome {
    /// `sseq` is exactly last + 1 (or the first tick seen of the symbol).
    InOrder,
    /// `sseq` jumped ahead: this many ticks of the symbol were never delivered.
    Gap(u64),
    /// `sseq` equals one already delivered.
    Duplicate,
    /// `sseq` is lower than the last delivered (and not a duplicate we can tell apart).
    OutOfOrder,
}

/// Kinds of client errors; [`ErrorKind::key`] is the key in `summary.json`'s `errors` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// TCP connect failed or was refused.
    Connect,
    /// A request or a stream read timed out.
    Timeout,
    /// The server answered with a non-success status.
    Status(u16),
    /// A body or frame could not be parsed.
    Parse,
    /// The connection broke mid-response.
    Io,
}

impl ErrorKind {
    /// `connect`, `timeout`, `status_503`, `parse`, `io`.
    pub fn key(self) -> String {
        match self {
            ErrorKind::Connect => "connect".into(),
            ErrorKind::Timeout => "timeout".into(),
            ErrorKind::Status(s) => format!("status_{s}"),
            ErrorKind::Parse => "parse".into(),
            ErrorKind::Io => "io".into(),
        }
    }
}

/// Where a client reports what happened. Implemented by the load generator's per-worker stats
/// (behind an `Rc`, one per worker thread, no locks) and by the ticker viewer (a channel).
/// Methods take `&self`: implementations use interior mutability.
pub trait Sink {
    /// An HTTP request was sent (a stream (re)connect counts as one).
    fn request(&self);
    /// A request-based answer was fully parsed; `ticks` is how many it carried (0 = empty answer).
    fn answer(&self, ticks: usize);
    /// Response body bytes received (called per chunk for streams).
    fn bytes(&self, n: u64);
    /// One tick was parsed at `recv_us` (µs since the epoch, read right after parsing it).
    fn tick(&self, tick: &Tick, recv_us: u64, outcome: SeqOutcome);
    /// The server declared a gap (the cursor fell out of its journal).
    fn gap_notice(&self, gap: Gap);
    /// Something went wrong; the client will back off and resume from its cursor.
    fn error(&self, kind: ErrorKind);
    /// The client re-established its connection after a failure or a server close.
    fn reconnect(&self);
    /// A scheduled request (poll, action) fired `lag_us` after its scheduled time.
    fn schedule_lag(&self, lag_us: u64);
    /// The client's stream is open (streams) or its first answer arrived (request transports).
    fn connected(&self, up: bool);
    /// The server's epoch changed: a different stream whose seqs and sseqs start again; the
    /// client starts over from its oldest tick. A viewer drops its baselines here.
    fn new_stream(&self, _old_epoch: u64, _new_epoch: u64) {}
    /// The client moved to another edge (`--failover`) and was answered there (resumed by its
    /// cursor), `us` after it lost the connection to the edge it left.
    fn takeover(&self, _us: u64) {}
}
