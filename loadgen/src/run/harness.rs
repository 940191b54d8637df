//! [`run_with_progress`]: everything around one run's coordinator, started in order and stopped in
//! reverse: the embedded server (unless `--target`), the chaos proxy and its restarter.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tickbench_wire::Summary;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chaos::ChaosProxy;
use crate::child::{ChildServer, ServerArgs};
use crate::error::Error;
use crate::opts::RunOpts;
use crate::progress::Progress;
use crate::run::driver::Coordinator;
use crate::run::limits::check_file_limit;
use crate::run::peer::PeerRun;
use crate::run::restarter::{lock, Restarter};

/// Runs the comparison, sending live events to `progress` (with `try_send`: a slow reader loses
/// snapshots, never slows the run) until done or `cancel` fires. Blocking; builds its own threads
/// and runtimes. Returns the summary (`complete: false` if cancelled) and the results folder, after
/// writing every result file.
pub fn run_with_progress(
    opts: RunOpts,
    progress: Option<mpsc::Sender<Progress>>,
    cancel: CancellationToken,
) -> Result<(Summary, PathBuf), Error> {
    let mut opts = opts;
    opts.validate()?;
    // A peer target is fed by the embedded server's market: the embedded server still starts.
    let peer_target = PeerRun::target_of(&opts)?;
    if let Some(t) = &peer_target {
        let lacks = t.kind.lacks(&opts.transports);
        opts.transports.retain(|tr| !lacks.contains(tr));
        if opts.transports.is_empty() {
            return Err(Error::Options(format!(
                "{} has none of the transports asked for (it lacks {})",
                t.kind,
                lacks.iter().map(|t| t.name()).collect::<Vec<_>>().join(",")
            )));
        }
    }
    // Through the chaos proxy each client costs three descriptors here: its own socket, and the
    // proxy's accepted and upstream sockets, all in this process.
    let fds_per_client = if opts.chaos.is_some() { 3 } else { 1 };
    check_file_limit(opts.clients, fds_per_client)?;

    // `--pin`: the server on the first half of the cores, this process (every thread, so the
    // workers and runtimes started below inherit it) on the rest.
    let server_cpus = if opts.pin {
        let allowed = crate::pin::allowed().map_err(Error::os("reading the CPU affinity"))?;
        let (server, loadgen) = crate::pin::split(&allowed).ok_or_else(|| Error::Os {
            what: "--pin".into(),
            source: std::io::Error::other(format!(
                "needs at least 2 cores, this process may use {}",
                allowed.len()
            )),
        })?;
        crate::pin::pin_process(None, &loadgen)
            .map_err(Error::os("pinning the load generator's threads (--pin)"))?;
        tracing::info!(
            "--pin: server on cores {}, load generator on cores {}",
            crate::pin::describe(&server),
            crate::pin::describe(&loadgen)
        );
        Some(server)
    } else {
        None
    };
    // The child, if any, lives until this function returns: dropping it stops the server on every
    // path out, errors and interruptions included.
    let source_given = peer_target.is_some() && opts.peer_source.is_some();
    let child = match (&opts.target, &peer_target) {
        (Some(_), None) => None,
        _ if source_given => None,
        (None, _) | (Some(_), Some(_)) => {
            let exe = match &opts.server_bin {
                Some(p) => p.clone(),
                None => std::env::current_exe().map_err(Error::os("locating this executable"))?,
            };
            Some(Arc::new(Mutex::new(ChildServer::start(ServerArgs {
                rate: Some(opts.rate),
                seed: Some(opts.seed),
                symbols: Some(opts.symbols),
                extra: opts
                    .server_args
                    .iter()
                    .cloned()
                    .chain(opts.debug_slow.iter().map(|s| format!("--debug-slow={s}")))
                    .collect(),
                cpus: server_cpus,
                tls: opts.tls,
                ..ServerArgs::new(exe)
            })?)))
        }
    };
    let target = match (&opts.target, &child) {
        _ if source_given => opts.peer_source.clone().unwrap_or_default(),
        (Some(_), Some(c)) => lock(c).url().to_string(),
        (Some(t), None) => t.trim_end_matches('/').to_string(),
        (None, Some(c)) => lock(c).url().to_string(),
        (None, None) => unreachable!("a child is started when there is no target"),
    };
    // The peer (if any) lives until the end, after the coordinator; its publisher follows the
    // embedded server, which `target` now names (the coordinator's control requests go there).
    let peer = match peer_target {
        Some(t) => Some(PeerRun::start(t, &target, &opts)?),
        None => None,
    };
    let proxy = match opts.chaos {
        Some(spec) => {
            let threads = (opts.workers / 2).clamp(1, 4);
            let upstream = match &peer {
                Some(p) => p.target.url.clone(),
                None => target.clone(),
            };
            let p = ChaosProxy::start(upstream_addr(&upstream)?, spec, opts.seed, threads)?;
            Some(Arc::new(p))
        }
        None => None,
    };
    let restarter = match (opts.chaos.and_then(|c| c.restart), &child, &proxy) {
        (Some(period), Some(c), Some(p)) => Some(Restarter::start(period, c.clone(), p.clone())?),
        _ => None,
    };

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::os("building the coordinator runtime"))?;
    let result = rt.block_on(async {
        let coordinator =
            Coordinator::connect(opts, target, child.clone(), proxy.clone(), progress, cancel)
                .await?
                .with_peer(peer.as_ref().map(PeerRun::view))?;
        coordinator.run().await
    });
    drop(peer);
    // In order: no more restarts, no more proxy, then the server.
    drop(restarter);
    drop(proxy);
    drop(child);
    result
}

/// `http://127.0.0.1:8080` → the socket address the chaos proxy forwards to.
fn upstream_addr(target: &str) -> Result<std::net::SocketAddr, Error> {
    use std::net::ToSocketAddrs;
    let bad = |reason: &str| Error::BadTarget {
        target: target.to_string(),
        reason: reason.to_string(),
    };
    let url = reqwest::Url::parse(target).map_err(|_| bad("is not an http:// URL"))?;
    let host = url.host_str().ok_or_else(|| bad("has no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .map_err(|e| bad(&format!("cannot be resolved for the chaos proxy: {e}")))?
        .next()
        .ok_or_else(|| bad("resolves to no address"))
}
