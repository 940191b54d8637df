//! How a sweep measures one cell: the [`CellRunner`] seam, with the load generator behind it.

use std::path::{Path, PathBuf};

use tickbench_loadgen::peers::{Peer, PeerOpts};
use tickbench_loadgen::progress::Progress;
use tickbench_loadgen::targets::TargetKind;
use tickbench_loadgen::{RunOpts, Watch};
use tickbench_wire::Summary;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::experiment::{Cell, Experiment, WatchSpec};

/// Why a cell could not be measured: whatever the runner reports, recorded in the cell's `error`
/// and the sweep goes on (a cell's failure is data, not a reason to stop).
pub type CellError = Box<dyn std::error::Error + Send + Sync>;

/// Runs one cell. The real one drives the load generator; tests substitute their own.
pub trait CellRunner {
    /// Measures `cell`, writing its results folder under `out`; returns the summary and that
    /// folder. Must return promptly (with a `complete: false` summary or an error) once `cancel`
    /// fires.
    fn run(
        &mut self,
        exp: &Experiment,
        cell: &Cell,
        out: &Path,
        progress: mpsc::Sender<Progress>,
        cancel: CancellationToken,
    ) -> Result<(Summary, PathBuf), CellError>;
}

/// The load generator as a [`CellRunner`].
#[derive(Debug, Clone, Default)]
pub struct LoadgenRunner {
    pub target: Option<String>,
    pub workers: Option<usize>,
    pub server_bin: Option<PathBuf>,
}

impl CellRunner for LoadgenRunner {
    fn run(
        &mut self,
        exp: &Experiment,
        cell: &Cell,
        out: &Path,
        progress: mpsc::Sender<Progress>,
        cancel: CancellationToken,
    ) -> Result<(Summary, PathBuf), CellError> {
        let mut o = RunOpts {
            target: self.target.clone(),
            transports: vec![cell.transport],
            duration: exp.duration.0,
            warmup: exp.warmup.0,
            ramp: exp.ramp.0,
            seed: cell.seed,
            label: cell.id.clone(),
            out: out.to_path_buf(),
            no_tui: true,
            server_bin: self.server_bin.clone(),
            ..RunOpts::default()
        };
        if let Some(c) = cell.clients {
            o.clients = c;
        }
        if let Some(r) = cell.rate {
            o.rate = r;
        }
        if let Some(i) = cell.poll_interval {
            o.poll_interval = i;
        }
        if let Some(a) = cell.action_rate {
            o.action_rate = a;
        }
        if let Some(l) = cell.link {
            o.http2 = l.protocol == tickbench_wire::HttpVersion::H2;
            o.tls = l.tls;
            o.tabs_per_conn = l.tabs_per_conn;
        }
        if let Some(t) = exp.longpoll_timeout {
            o.longpoll_timeout = t.0;
        }
        if let Some(w) = exp.watch {
            o.watch = match w {
                WatchSpec::Count(c) => Watch::Count(c.0 as usize),
                WatchSpec::All => Watch::All,
            };
        }
        if let Some(w) = self.workers {
            o.workers = w;
        }
        // A peer is started for the cell from `peers/`, as `run --targets` starts it, and
        // stopped after it (dropped).
        let peer = match cell.target {
            None | Some(TargetKind::Tickbench) => None,
            Some(kind @ (TargetKind::Nchan | TargetKind::Pushpin)) => {
                let p = Peer::start(kind, &PeerOpts::for_clients(o.clients))?;
                o.target = Some(p.target_arg());
                o.peer_pid = Some(p.pid());
                Some(p)
            }
        };
        let result = tickbench_loadgen::run_with_progress(o, Some(progress), cancel);
        drop(peer);
        result.map_err(Into::into)
    }
}
