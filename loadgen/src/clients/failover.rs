//! Edge failover (`run --failover`): a client given several edges of one feed starts on its own
//! and, when that edge is gone, moves to another and resumes there by its cursor. Edges of one
//! feed hold identical `seq`/`sseq`/`ts` (and epoch), so the cursor, `Last-Event-ID` and the
//! sequence checker's baselines stay valid on the new edge: a move loses nothing.
//!
//! "Gone" means [`FAILURES_BEFORE_MOVE`] failures in a row that say the edge itself cannot serve
//! the client (connect refused, reset, timeout, a stream that ended without `bye`, or a 503: the
//! edge is at its connection limit): the first is retried on the same edge after the usual
//! backoff (and `Retry-After`), as any reconnect is, so an edge that merely dropped a connection
//! keeps its clients. Other answers (400, 404, ...) never move a client: the edge is up and
//! another would say the same. The 503 matters at scale: when an edge dies, its clients fill the
//! others, and a client refused by a full edge must try the next one rather than wait on it
//! (the first C100K run here, 503s not moving, left 10,000 clients retrying full edges for a
//! minute while another edge stood empty). Where a client moves is spread by its seed, so one dead edge's clients spread evenly over
//! the others instead of all landing on the next one.
//!
//! The takeover time runs from the moment the connection was lost to the new edge's answer (the
//! stream or request resumed there by cursor; ticks missed meanwhile come right after it, in
//! order). Not to the next tick: with a watchlist that ticks every few seconds, that would time
//! the market, not the takeover. Reported through [`Sink::takeover`](super::sink::Sink::takeover).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::sink::ErrorKind;

/// Failures in a row (the loss itself, then the retry) that make a client leave its edge.
pub const FAILURES_BEFORE_MOVE: u32 = 2;

/// One client's edges and where it is among them.
#[derive(Debug)]
pub(crate) struct Failover {
    /// The client's own edge (its `--target`), step 0 of the rotation.
    own: reqwest::Url,
    /// The other edges (`--failover`), never empty.
    others: Arc<[reqwest::Url]>,
    /// Where the client is in the rotation: 0 its own edge, `k` ≥ 1 the k-th other one it tried.
    step: usize,
    /// The first other edge it tries, from its seed: spreads one edge's clients over the rest.
    offset: usize,
    /// Failures in a row on the current edge that say it is gone.
    failures: u32,
    /// When the connection was lost, until a tick arrives again.
    lost_at: Option<Instant>,
    /// The client moved since `lost_at`: its next tick completes a takeover.
    moved: bool,
}

impl Failover {
    /// The failover of a client on `own` that may move to `others`; `None` without others.
    pub fn new(own: reqwest::Url, others: Option<Arc<[reqwest::Url]>>, seed: u64) -> Option<Self> {
        let others = others.filter(|o| !o.is_empty())?;
        let offset = (seed % others.len() as u64) as usize;
        Some(Failover {
            own,
            others,
            step: 0,
            offset,
            failures: 0,
            lost_at: None,
            moved: false,
        })
    }

    /// The connection was lost (failed or closed): the takeover clock starts, once.
    pub fn connection_lost(&mut self) {
        self.lost_at.get_or_insert_with(Instant::now);
    }

    /// The current edge answered: it is not gone.
    pub fn established(&mut self) {
        self.failures = 0;
    }

    /// An attempt failed with `kind`; the edge to move to when that makes the current one gone.
    pub fn failed(&mut self, kind: Option<ErrorKind>) -> Option<reqwest::Url> {
        match kind {
            Some(
                ErrorKind::Connect | ErrorKind::Io | ErrorKind::Timeout | ErrorKind::Status(503),
            ) => self.failures += 1,
            Some(ErrorKind::Status(_) | ErrorKind::Parse) | None => return None,
        }
        if self.failures < FAILURES_BEFORE_MOVE {
            return None;
        }
        self.failures = 0;
        self.moved = true;
        self.step = (self.step + 1) % (self.others.len() + 1);
        Some(self.current())
    }

    /// The edge the client is on now.
    pub fn current(&self) -> reqwest::Url {
        match self.step {
            0 => self.own.clone(),
            k => self.others[(self.offset + k - 1) % self.others.len()].clone(),
        }
    }

    /// The edge answered (or a tick arrived): the takeover time if this ends a move, and the
    /// clock stops either way.
    #[inline]
    pub fn delivered(&mut self) -> Option<Duration> {
        let at = self.lost_at.take()?;
        std::mem::take(&mut self.moved).then(|| at.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(port: u16) -> reqwest::Url {
        format!("http://127.0.0.1:{port}/").parse().unwrap()
    }

    #[test]
    fn a_gone_edge_is_left_after_one_retry_and_the_move_is_timed() {
        let others: Arc<[reqwest::Url]> = Arc::from(vec![url(2), url(3)]);
        let mut f = Failover::new(url(1), Some(others), 1).unwrap();
        f.connection_lost();
        assert_eq!(
            f.failed(Some(ErrorKind::Io)),
            None,
            "the first loss is retried"
        );
        assert_eq!(
            f.failed(Some(ErrorKind::Status(400))),
            None,
            "an answer other than 503 is no loss"
        );
        assert_eq!(
            f.failed(Some(ErrorKind::Connect)),
            Some(url(3)),
            "seed 1: offset 1"
        );
        assert!(
            f.delivered().is_some(),
            "the first answer or tick there ends the takeover"
        );
        assert!(f.delivered().is_none());
        // A loss and a reconnect on the same edge is no takeover.
        f.connection_lost();
        f.failed(Some(ErrorKind::Io));
        f.established();
        f.failed(Some(ErrorKind::Io));
        assert!(f.delivered().is_none());
        f.established();
        // Around the ring, back to its own edge last.
        for want in [url(2), url(1), url(3)] {
            f.failed(Some(ErrorKind::Connect));
            assert_eq!(f.failed(Some(ErrorKind::Connect)), Some(want));
        }
        assert!(Failover::new(url(1), Some(Arc::from(Vec::new())), 0).is_none());
    }

    #[test]
    fn one_edges_clients_spread_over_the_others() {
        let others: Arc<[reqwest::Url]> = Arc::from((2..8).map(url).collect::<Vec<_>>());
        let mut per = std::collections::BTreeMap::new();
        for seed in 0..600u64 {
            let mut f = Failover::new(url(1), Some(others.clone()), seed).unwrap();
            f.failed(Some(ErrorKind::Io));
            *per.entry(f.failed(Some(ErrorKind::Connect)).unwrap())
                .or_insert(0) += 1;
        }
        assert_eq!(per.len(), 6);
        assert!(per.values().all(|&n| n == 100), "{per:?}");
    }

    #[test]
    fn a_full_edge_is_left_like_a_gone_one() {
        let others: Arc<[reqwest::Url]> = Arc::from(vec![url(2), url(3)]);
        let mut f = Failover::new(url(1), Some(others), 0).unwrap();
        f.connection_lost();
        assert_eq!(f.failed(Some(ErrorKind::Status(503))), None, "retried once");
        assert_eq!(
            f.failed(Some(ErrorKind::Status(503))),
            Some(url(2)),
            "a second 503 in a row moves the client"
        );
    }
}
