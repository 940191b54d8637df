//! The phase driver: the [`Coordinator`] holds what one run needs while it measures, connects to
//! the target, and runs the whole measurement: the loopback floors, one phase per transport
//! (`phase`), the measurements beside them (`floors`) and the results; its small helpers sample
//! the server and talk to observers. The configuration it records is `config`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use tickbench_wire::{Summary, Symbols, Transport, SCHEMA_VERSION};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chaos::{ChaosCounts, ChaosProxy};
use crate::child::ChildServer;
use crate::clients::HttpSpec;
use crate::error::Error;
use crate::floor::{measure_cross_thread_floor, measure_floor, Floor};
use crate::opts::RunOpts;
use crate::procstat;
use crate::progress::Progress;
use crate::results::ResultsDir;
use crate::run::peer::PeerView;
use crate::run::population::{trust, Population};
use crate::run::probe::{fetch_symbols, healthz, process_metrics, Health, CONTROL_TIMEOUT};
use crate::run::restarter::lock;
use crate::worker::Worker;

/// Round trips of the floor measurement.
pub(super) const FLOOR_ROUND_TRIPS: usize = 10_000;

/// Everything one run needs while it measures.
pub(super) struct Coordinator {
    pub(super) opts: RunOpts,
    pub(super) target: String,
    /// The server, for the coordinator's own requests.
    pub(super) base: reqwest::Url,
    /// Where the clients connect: the server, or the chaos proxy in front of it.
    pub(super) client_base: reqwest::Url,
    pub(super) http: reqwest::Client,
    pub(super) server_pid: Option<u32>,
    /// An external `--target` (no pid) that answered `/metrics` with the `process_*` families at
    /// connect: its CPU and RSS are read from there each second instead of from `/proc`.
    pub(super) scrape_target: bool,
    pub(super) progress: Option<mpsc::Sender<Progress>>,
    pub(super) cancel: CancellationToken,
    /// The clients, drawn once so every transport serves the same ones.
    pub(super) population: Population,
    pub(super) symbols: Symbols,
    /// The embedded server (locked by the restarter while it restarts it).
    pub(super) child: Option<Arc<Mutex<ChildServer>>>,
    pub(super) proxy: Option<Arc<ChaosProxy>>,
    /// The fan-out floor while its phase runs: the clients connect to it instead, and its
    /// threads' CPU is the phase's "server" CPU (and, in-process, not the load generator's).
    pub(super) fanout: Option<Floor>,
    /// A peer target (Nchan, Pushpin): the clients connect to it, its processes are the server
    /// sampled; the embedded server is then only the market's source.
    pub(super) peer: Option<PeerView>,
}

impl Coordinator {
    /// Checks that the target is a tickbench server and draws the watchlists.
    pub(super) async fn connect(
        opts: RunOpts,
        target: String,
        child: Option<Arc<Mutex<ChildServer>>>,
        proxy: Option<Arc<ChaosProxy>>,
        progress: Option<mpsc::Sender<Progress>>,
        cancel: CancellationToken,
    ) -> Result<Coordinator, Error> {
        let base = reqwest::Url::parse(&format!("{target}/"))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| Error::BadTarget {
                target: target.clone(),
                reason: "not an http:// or https:// URL".into(),
            })?;
        let trust = trust(&opts, &base, child.as_deref())?;
        let bad_tls = |e: String| Error::Options(format!("TLS: {e}"));
        let spec = HttpSpec::new(opts.http2, trust.as_ref()).map_err(bad_tls)?;
        let control_spec = HttpSpec::new(false, trust.as_ref()).map_err(bad_tls)?;
        let http = control_spec
            .builder()
            .timeout(CONTROL_TIMEOUT)
            .build()
            .map_err(|e| Error::Os {
                what: "building the control HTTP client".into(),
                source: std::io::Error::other(e),
            })?;
        // Every client is built from `spec`: a failure shows here once, not in each client.
        spec.build(None).map_err(|e| Error::Os {
            what: "building the clients' HTTP client".into(),
            source: std::io::Error::other(e),
        })?;
        let symbols = fetch_symbols(&http, &base, &target).await?;
        let population = Population::draw(&symbols, &opts, spec);
        let client_base = match &proxy {
            // The proxy forwards bytes: TLS passes through it, so the scheme is the server's.
            Some(p) => reqwest::Url::parse(&format!(
                "{}/",
                p.url()
                    .replacen("http://", &format!("{}://", base.scheme()), 1)
            ))
            .map_err(|e| Error::Os {
                what: "building the chaos proxy URL".into(),
                source: std::io::Error::other(e),
            })?,
            None => base.clone(),
        };
        let scrape_target = child.is_none() && process_metrics(&http, &base).await.is_some();
        Ok(Coordinator {
            server_pid: child.as_deref().map(|c| lock(c).pid()),
            scrape_target,
            opts,
            target,
            base,
            client_base,
            http,
            progress,
            cancel,
            population,
            symbols,
            child,
            proxy,
            fanout: None,
            peer: None,
        })
    }

    /// Points the clients at a peer and samples its processes as the server's.
    pub(super) fn with_peer(mut self, peer: Option<PeerView>) -> Result<Coordinator, Error> {
        if let Some(p) = &peer {
            if self.proxy.is_none() {
                self.client_base =
                    reqwest::Url::parse(&format!("{}/", p.url)).map_err(|e| Error::BadTarget {
                        target: p.url.clone(),
                        reason: e.to_string(),
                    })?;
            }
            self.target = format!("{}+{}", p.kind, p.url);
        }
        self.peer = peer;
        Ok(self)
    }

    pub(super) async fn run(mut self) -> Result<(Summary, PathBuf), Error> {
        let run_start = Instant::now();
        let started = SystemTime::now();
        let floor = tokio::task::spawn_blocking(|| measure_floor(FLOOR_ROUND_TRIPS))
            .await
            .map_err(floor_task)??;
        let floor_cross =
            tokio::task::spawn_blocking(|| measure_cross_thread_floor(FLOOR_ROUND_TRIPS))
                .await
                .map_err(floor_task)??;
        let mut results = ResultsDir::create(&self.opts.out, &self.opts.label, started)?;
        let mut summary = Summary {
            schema: SCHEMA_VERSION,
            tickbench_version: env!("CARGO_PKG_VERSION").to_string(),
            label: self.opts.label.clone(),
            started_at: chrono::DateTime::<chrono::Utc>::from(started)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            complete: false,
            config: self.config_json(),
            floor_us: floor,
            floor_cross_us: Some(floor_cross),
            transports: Vec::new(),
            fanout_floor: None,
            browser: None,
            hgrm_unit: tickbench_wire::HgrmUnit::Ms,
            host: Some(Box::new(crate::host::detect())),
        };
        results.write_summary(&summary)?;
        self.send(Progress::Started {
            target: self.target.clone(),
            transports: self.opts.transports.clone(),
            total: self.opts.total_duration(),
            floor_us_p50: floor.p50,
            floor_us_p99: floor.p99,
            link: self.opts.link(),
        });

        let workers = (0..self.opts.workers)
            .map(Worker::spawn)
            .collect::<Result<Vec<_>, Error>>()?;
        let transports = self.opts.transports.clone();
        for (index, &transport) in transports.iter().enumerate() {
            if self.cancel.is_cancelled() {
                break;
            }
            let phase = self
                .phase(transport, index, &workers, &mut results, run_start)
                .await?;
            if let Some(mut t) = phase {
                if transport == Transport::Poll {
                    t.bare_http = self.bare_http(transport, index).await?;
                }
                summary.transports.push(t.clone());
                results.write_summary(&summary)?;
                self.send(Progress::PhaseFinished(Box::new(t)));
            }
        }
        if let Some(floor) = self
            .fanout_floor(&transports, &workers, &mut results, run_start)
            .await?
        {
            for t in &mut summary.transports {
                t.floor_multiples = tickbench_wire::FloorMultiples::of(t, &floor);
            }
            summary.fanout_floor = Some(Box::new(floor));
            results.write_summary(&summary)?;
        }
        drop(workers);

        // `--browser`: the page in headless Chromium against the same server (not through the
        // chaos proxy), after the transport phases so neither disturbs the other.
        if let (true, Some(phase), false) = (
            self.opts.browser,
            self.opts.browser_phase.clone(),
            self.cancel.is_cancelled(),
        ) {
            let (url, dir) = (self.target.clone(), results.path().to_path_buf());
            let section = tokio::task::spawn_blocking(move || (phase.0)(&url, &dir))
                .await
                .map_err(|e| Error::Browser(format!("the browser phase stopped: {e}")))?
                .map_err(Error::Browser)?;
            summary.browser = Some(Box::new(section));
            results.write_summary(&summary)?;
        }

        summary.complete = !self.cancel.is_cancelled();
        results.finish(&summary)?;
        let dir = results.path().to_path_buf();
        self.send(Progress::Finished {
            summary: Box::new(summary.clone()),
            dir: dir.clone(),
        });
        Ok((summary, dir))
    }

    /// The server's CPU and RSS: the embedded server's, or the peer's processes.
    pub(super) fn sample_server(&self, pid: u32) -> Option<crate::procstat::ProcSample> {
        match &self.peer {
            Some(p) => p.sample(pid),
            None => procstat::sample(Some(pid)),
        }
    }

    /// An external target's CPU and RSS from its `/metrics` (`None` for any other server: the
    /// embedded one and peers are read from `/proc`, and the fan-out floor's phase reads the floor).
    pub(super) async fn scrape_server(&self) -> Option<crate::procstat::ProcSample> {
        if !self.scrape_target || self.peer.is_some() || self.fanout.is_some() {
            return None;
        }
        process_metrics(&self.http, &self.base).await
    }

    /// The embedded server's pid now (the peer's, against a peer); `None` without one or while a
    /// chaos restart holds it.
    pub(super) fn current_server_pid(&self) -> Option<u32> {
        if let Some(p) = &self.peer {
            return p.pid;
        }
        let c = self.child.as_ref()?;
        c.try_lock().ok().map(|c| c.pid())
    }

    pub(super) fn chaos_counts(&self) -> ChaosCounts {
        self.proxy.as_ref().map(|p| p.counts()).unwrap_or_default()
    }

    /// `/healthz` of the server (not the proxy: the coordinator sees the server as it is).
    pub(super) async fn healthz_next(&self) -> Option<Health> {
        healthz(&self.http, &self.base).await
    }

    pub(super) fn send(&self, p: Progress) {
        if let Some(tx) = &self.progress {
            let _ = tx.try_send(p);
        }
    }
}

/// A floor measurement task that panicked.
pub(super) fn floor_task(e: tokio::task::JoinError) -> Error {
    Error::Os {
        what: "floor measurement task".into(),
        source: std::io::Error::other(e),
    }
}
