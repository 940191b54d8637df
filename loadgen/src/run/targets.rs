//! `--targets tickbench,nchan,pushpin`: the same run (same phases, seed, rate and watchlists, so
//! the same seeded tick stream) against each server in turn — tickbench's embedded server, then
//! each peer started from the shipped configs — and one side-by-side report.
//!
//! The folder `<out>/<timestamp>-<label>-servers/` holds each server's own results folder and
//! `report.md`, the side-by-side table. A peer that cannot be started is reported, not fatal.

use std::path::PathBuf;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::opts::RunOpts;
use crate::peers::{Peer, PeerOpts};
use crate::progress::Progress;
use crate::results::side_by_side::{render, TargetRun};
use crate::run::run_with_progress;
use crate::targets::TargetKind;

/// Runs `opts` against every `opts.targets`; returns the side-by-side folder and its report.
pub fn run_targets(
    opts: RunOpts,
    progress: Option<mpsc::Sender<Progress>>,
    cancel: CancellationToken,
) -> Result<(PathBuf, String), Error> {
    opts.validate()?;
    let stamp = chrono::DateTime::<chrono::Utc>::from(SystemTime::now()).format("%Y%m%dT%H%M%SZ");
    let dir = opts.out.join(format!("{stamp}-{}-servers", opts.label));
    std::fs::create_dir_all(&dir).map_err(|source| Error::WriteResults {
        path: dir.clone(),
        source,
    })?;
    let mut runs = Vec::new();
    for &kind in &opts.targets {
        if cancel.is_cancelled() {
            break;
        }
        let mut o = opts.clone();
        o.targets.clear();
        o.out = dir.clone();
        o.label = format!("{}-{kind}", opts.label);
        let peer = match kind {
            TargetKind::Tickbench => None,
            TargetKind::Nchan | TargetKind::Pushpin => {
                match Peer::start(kind, &PeerOpts::for_clients(o.clients)) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        eprintln!("tickbench: {kind} not measured: {e}");
                        runs.push(TargetRun {
                            kind,
                            outcome: Err(e.to_string()),
                        });
                        continue;
                    }
                }
            }
        };
        if let Some(p) = &peer {
            let t = p.target();
            o.target = Some(format!(
                "{kind}+{}?publish={}&backend={}",
                t.url,
                t.publish_port.unwrap_or(0),
                t.backend_port.unwrap_or(0)
            ))
            .map(|s| match kind {
                TargetKind::Pushpin => s,
                TargetKind::Nchan | TargetKind::Tickbench => format!("{kind}+{}", t.url),
            });
            o.peer_pid = Some(p.pid());
        }
        let outcome = run_with_progress(o, progress.clone(), cancel.clone())
            .map(|(summary, _)| summary)
            .map_err(|e| e.to_string());
        if let Err(e) = &outcome {
            eprintln!("tickbench: {kind}: {e}");
        }
        drop(peer);
        runs.push(TargetRun { kind, outcome });
    }
    let report = render(&runs, &opts.transports);
    let path = dir.join("report.md");
    std::fs::write(&path, format!("# Servers side by side\n\n{report}"))
        .map_err(|source| Error::WriteResults { path, source })?;
    Ok((dir, report))
}
