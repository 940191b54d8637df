//! A run against a peer (`--target nchan+http://…` / `pushpin+http://…`): what sits around the
//! coordinator for it — the journal, the publisher feeding the peer the embedded tickbench server's
//! market, Pushpin's GRIP backend — and the peer's processes, whose CPU and RSS the coordinator
//! samples as the server's.

use tickbench_wire::Transport;

use crate::error::Error;
use crate::opts::{RunOpts, Watch};
use crate::peers::procs;
use crate::procstat::ProcSample;
use crate::targets::grip::GripBackend;
use crate::targets::journal::Journal;
use crate::targets::publish::Publisher;
use crate::targets::{Target, TargetKind};

/// Ticks the journal keeps for catch-up and recovery.
const JOURNAL_TICKS: usize = 1_000_000;

/// How long Pushpin may take to hold the warm subscriptions.
const WARM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A peer target being measured.
pub(super) struct PeerRun {
    pub(super) target: Target,
    /// The peer's root process, when known (started by `run --targets`, or by `peer start`).
    pub(super) pid: Option<u32>,
    /// Threads of this process that serve the peer (Pushpin's GRIP backend): their CPU is the
    /// server's.
    pub(super) tids: Vec<u32>,
    /// The transports of the run this peer lacks (not run against it).
    pub(super) lacks: Vec<Transport>,
    /// Stopped before the backend, so nothing publishes into a peer without its backend.
    publisher: Option<Publisher>,
    _backend: Option<GripBackend>,
}

impl PeerRun {
    /// The peer `opts.target` names, if it names one (not tickbench's own server).
    pub(super) fn target_of(opts: &RunOpts) -> Result<Option<Target>, Error> {
        let Some(t) = &opts.target else {
            return Ok(None);
        };
        let target = Target::parse(t).map_err(|reason| Error::BadTarget {
            target: t.clone(),
            reason,
        })?;
        Ok((target.kind != TargetKind::Tickbench).then_some(target))
    }

    /// Starts the GRIP backend (Pushpin) and the publisher following `source`.
    pub(super) fn start(target: Target, source: &str, opts: &RunOpts) -> Result<PeerRun, Error> {
        let addr = target.url.trim_start_matches("http://").to_string();
        if std::net::TcpStream::connect(&addr).is_err() {
            return Err(Error::TargetUnreachable {
                target: format!("{}+{}", target.kind, target.url),
                cause: "nothing listens there (start it with `tickbench peer start`)".into(),
            });
        }
        let journal = Journal::new(JOURNAL_TICKS);
        let backend = match target.kind {
            TargetKind::Pushpin => Some(GripBackend::start(
                target.backend_port.unwrap_or(0),
                journal.clone(),
                Some((target.url.clone(), source.to_string())),
            )?),
            TargetKind::Nchan | TargetKind::Tickbench => None,
        };
        let all = opts.watch == Watch::All;
        let publisher = Publisher::start(source, &target, journal, all)?;
        // Pushpin subscribed to every channel before any client connects (see `targets::warm`).
        if let Some(b) = &backend {
            if !b.wait_warm(WARM_TIMEOUT) {
                tracing::warn!(
                    "Pushpin did not hold the warm subscriptions within {WARM_TIMEOUT:?}: \
                     long-poll holds may miss ticks and new channels delay deliveries"
                );
            }
        }
        Ok(PeerRun {
            pid: opts.peer_pid.or_else(|| crate::peers::cli::pid_of(&target)),
            tids: backend.iter().filter_map(|b| b.tid).collect(),
            lacks: target.kind.lacks(&opts.transports),
            target,
            publisher: Some(publisher),
            _backend: backend,
        })
    }

    /// What the coordinator needs of the peer while it measures.
    pub(super) fn view(&self) -> PeerView {
        PeerView {
            kind: self.target.kind,
            url: self.target.url.clone(),
            pid: self.pid,
            tids: self.tids.clone(),
            lacks: self.lacks.clone(),
        }
    }
}

/// The peer as the coordinator sees it.
#[derive(Debug, Clone)]
pub(super) struct PeerView {
    pub(super) kind: TargetKind,
    /// Where the clients connect.
    pub(super) url: String,
    pub(super) pid: Option<u32>,
    tids: Vec<u32>,
    lacks: Vec<Transport>,
}

impl PeerView {
    /// CPU and RSS of the peer's processes (and its serving threads here).
    pub(super) fn sample(&self, pid: u32) -> Option<ProcSample> {
        procs::sample_tree(pid, &self.tids)
    }

    /// What `summary.json` records about the peer.
    pub(super) fn config(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind,
            "url": self.url,
            "pids": self.pid.map(procs::tree),
            "lacks": self.lacks,
            "server_stats": match (self.pid, self.kind) {
                (None, _) => "not measured: the peer's pid is unknown (start it with `tickbench peer start` or `--targets`)",
                (Some(_), TargetKind::Pushpin) => "Pushpin's runner and services, plus the GRIP backend thread inside the load generator (CPU only); includes the backend's two warm subscriptions (two deliveries per tick)",
                (Some(_), TargetKind::Nchan | TargetKind::Tickbench) => "nginx master and workers",
            },
        })
    }
}

impl Drop for PeerRun {
    fn drop(&mut self) {
        drop(self.publisher.take());
    }
}
