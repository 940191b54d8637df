//! The phase driver: the [`Coordinator`] runs one phase per transport, collecting every worker's
//! interval each second (and at each stage boundary), sampling both processes and the server, and
//! recording the measured seconds.
//!
//! Longer than the ~500 lines a file here aims at: the phase loop, its per-second sampling and the
//! windows that borrow it (the fan-out floor, the bare HTTP loop, a peer target's sampling) all
//! read and write the one `Coordinator`; moving each window into its own file behind that state
//! is the next cut.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tickbench_wire::{Summary, Symbols, Transport, TransportSummary, SCHEMA_VERSION};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chaos::{ChaosCounts, ChaosProxy};
use crate::child::ChildServer;
use crate::clients::HttpSpec;
use crate::error::Error;
use crate::floor::bare_http::{self, BareConnection, BareHttpConfig};
use crate::floor::{measure_cross_thread_floor, measure_floor, FanoutConfig, FanoutFloor};
use crate::opts::RunOpts;
use crate::procstat;
use crate::progress::{Progress, SecondSnapshot, Stage};
use crate::results::ResultsDir;
use crate::run::peer::PeerView;
use crate::run::population::{trust, Population};
use crate::run::probe::{fetch_symbols, healthz, process_metrics, Health, CONTROL_TIMEOUT};
use crate::run::restarter::lock;
use crate::run::window::{cpu_delta, Second, Window};
use crate::saturation::{self, Load};
use crate::stats::Interval;
use crate::steal::{self, StealWindow};
use crate::worker::{Command, PhasePlan, Worker};

/// Round trips of the floor measurement.
const FLOOR_ROUND_TRIPS: usize = 10_000;

/// Everything one run needs while it measures.
pub(super) struct Coordinator {
    opts: RunOpts,
    target: String,
    /// The server, for the coordinator's own requests.
    base: reqwest::Url,
    /// Where the clients connect: the server, or the chaos proxy in front of it.
    client_base: reqwest::Url,
    http: reqwest::Client,
    server_pid: Option<u32>,
    /// An external `--target` (no pid) that answered `/metrics` with the `process_*` families at
    /// connect: its CPU and RSS are read from there each second instead of from `/proc`.
    scrape_target: bool,
    progress: Option<mpsc::Sender<Progress>>,
    cancel: CancellationToken,
    /// The clients, drawn once so every transport serves the same ones.
    population: Population,
    symbols: Symbols,
    /// The embedded server (locked by the restarter while it restarts it).
    child: Option<Arc<Mutex<ChildServer>>>,
    proxy: Option<Arc<ChaosProxy>>,
    /// The fan-out floor while its phase runs: the clients connect to it instead, and its
    /// threads' CPU is the phase's "server" CPU (and not the load generator's).
    fanout: Option<FanoutFloor>,
    /// A peer target (Nchan, Pushpin): the clients connect to it, its processes are the server
    /// sampled; the embedded server is then only the market's source.
    peer: Option<PeerView>,
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

    /// The bare HTTP loop beside a polling phase (see `crate::floor::bare_http`): the phase's
    /// connections, URLs (without the cursor), workers and schedule, for a warm-up and a measured
    /// window as long as the phase's. `None` when skipped or interrupted.
    async fn bare_http(
        &self,
        transport: Transport,
        index: usize,
    ) -> Result<Option<tickbench_wire::BareHttp>, Error> {
        let o = &self.opts;
        if o.no_bare_http || self.cancel.is_cancelled() {
            return Ok(None);
        }
        let connections = (0..o.clients)
            .map(|i| {
                let c = self
                    .population
                    .client_config(o, &self.client_base, transport, index, i);
                let mut url = format!(
                    "{}{}",
                    c.base.as_str().trim_end_matches('/'),
                    transport.path()
                );
                if let Some(s) = c.symbols.as_deref().filter(|s| !s.is_empty()) {
                    crate::clients::http::push_symbols(&mut url, s);
                }
                BareConnection {
                    url,
                    local_addr: c.local_addr,
                    connection: c.connection,
                }
            })
            .collect();
        let cfg = BareHttpConfig {
            connections,
            interval: o.poll_interval,
            workers: o.workers,
            warmup: o.ramp + o.warmup,
            duration: o.duration,
        };
        let cancel = self.cancel.clone();
        tokio::task::spawn_blocking(move || bare_http::measure(cfg, cancel))
            .await
            .map_err(floor_task)?
            .map_err(Error::os("running the bare HTTP loop"))
    }

    /// The fan-out floor's phase (see `crate::floor::fanout`), with the first push transport of
    /// the run; `None` when skipped, interrupted, or the run has no push transport.
    async fn fanout_floor(
        &mut self,
        transports: &[Transport],
        workers: &[Worker],
        results: &mut ResultsDir,
        run_start: Instant,
    ) -> Result<Option<TransportSummary>, Error> {
        let push = transports.iter().copied().find(|t| match t.kind() {
            tickbench_wire::transport::Kind::Stream => true,
            // The floor's minimal writer speaks HTTP chunked streams, not WebSocket frames.
            tickbench_wire::transport::Kind::Polled
            | tickbench_wire::transport::Kind::Piggyback
            | tickbench_wire::transport::Kind::Held
            | tickbench_wire::transport::Kind::Duplex => false,
        });
        let Some(transport) = push.filter(|_| !self.opts.no_fanout_floor) else {
            return Ok(None);
        };
        if self.cancel.is_cancelled() {
            return Ok(None);
        }
        let cfg = FanoutConfig {
            transport,
            symbols: self.symbols.symbols.len(),
            seed: self.symbols.seed,
            rate: self.symbols.rate,
            writers: 0,
        };
        let floor = tokio::task::spawn_blocking(move || FanoutFloor::start(cfg))
            .await
            .map_err(floor_task)?
            .map_err(Error::os("starting the fan-out floor"))?;
        self.fanout = Some(floor);
        let index = transports.len();
        let phase = self
            .phase(transport, index, workers, results, run_start)
            .await;
        if let Some(f) = self.fanout.take() {
            // Joins its threads: off the runtime.
            let _ = tokio::task::spawn_blocking(move || drop(f)).await;
        }
        phase
    }

    /// One transport phase. `None` when interrupted before its measured window began.
    async fn phase(
        &mut self,
        transport: Transport,
        index: usize,
        workers: &[Worker],
        results: &mut ResultsDir,
        run_start: Instant,
    ) -> Result<Option<TransportSummary>, Error> {
        let o = &self.opts;
        let (ramp, warm_end, end) = (o.ramp, o.ramp + o.warmup, o.ramp + o.warmup + o.duration);
        let phase_cancel = self.cancel.child_token();
        let start = Instant::now();

        let client_base = match &self.fanout {
            Some(f) => reqwest::Url::parse(&format!("{}/", f.url())).map_err(|e| Error::Os {
                what: "building the fan-out floor URL".into(),
                source: std::io::Error::other(e),
            })?,
            None => self.client_base.clone(),
        };
        // Clients round-robin over the workers (the tabs sharing a connection together, on the
        // runtime that drives it), start times spread evenly over the ramp.
        let mut plans: Vec<Vec<_>> = (0..workers.len()).map(|_| Vec::new()).collect();
        let tabs = u64::from(o.tabs_per_conn.max(1));
        for i in 0..o.clients {
            let offset = ramp.mul_f64(i as f64 / o.clients as f64);
            let mut cfg = self
                .population
                .client_config(o, &client_base, transport, index, i);
            if let Some(p) = &self.peer {
                cfg.target = p.kind;
            }
            plans[(i / tabs) as usize % workers.len()].push((offset, cfg));
        }
        for (w, clients) in workers.iter().zip(plans) {
            w.send(Command::Phase(PhasePlan {
                clients,
                start,
                cancel: phase_cancel.clone(),
            }))?;
        }
        // The fan-out floor's phase is not a transport's: observers (dashboard, plain
        // progress) see its result in the final summary only, not as a second run of a row.
        let observed = self.fanout.is_none();
        if observed {
            self.send(Progress::PhaseStarted {
                transport,
                index,
                of: self.opts.transports.len(),
                clients: self.opts.clients,
                duration: end,
            });
        }

        let mut window = Window {
            chaos_on: self.proxy.is_some(),
            slow_clients: self.population.slow_clients(transport),
            ..Window::default()
        };
        let mut prev_t = start;
        let mut prev_self = procstat::sample(None);
        let mut pid = self.current_server_pid();
        let mut prev_server = match pid {
            Some(p) => self.sample_server(p),
            None => self.scrape_server().await,
        };
        let mut prev_chaos = self.chaos_counts();
        let mut prev_next = self.healthz_next().await;
        let mut prev_steal = steal::read();
        let mut steal_window = StealWindow::default();
        let mut prev_fanout = self.fanout.as_ref().map(|f| (f.cpu(), f.next_seq()));
        let mut interrupted = false;
        while prev_t.duration_since(start) < end && !interrupted {
            let since = prev_t.duration_since(start);
            let stage = if since < ramp {
                Stage::Ramp
            } else if since < warm_end {
                Stage::Warmup
            } else {
                Stage::Measure
            };
            // Next collection: the next whole second of the phase, or the next stage boundary.
            let next_second = Duration::from_secs(since.as_secs() + 1);
            let boundary = [ramp, warm_end, end]
                .into_iter()
                .filter(|b| *b > since)
                .fold(next_second, Duration::min);
            let period_start_sys = SystemTime::now() - prev_t.elapsed();
            tokio::select! {
                _ = tokio::time::sleep_until((start + boundary).into()) => {}
                _ = self.cancel.cancelled() => interrupted = true,
            }

            // The second ends now: time and CPU are read before waiting on the workers and the
            // server, so a slow /healthz answer cannot stretch the interval.
            let now = Instant::now();
            let self_now = procstat::sample(None);
            let steal_now = steal::read();
            // `None` while a chaos restart holds the server: no sample, no liveness check. The
            // fan-out floor's phase samples the floor instead.
            let now_pid = match self.fanout {
                Some(_) => None,
                None => self.current_server_pid(),
            };
            if now_pid != pid {
                // A restarted server is a new process: its CPU counts from its own zero.
                prev_server = now_pid.and_then(|p| self.sample_server(p));
                prev_server = prev_server.map(|mut s| {
                    s.cpu = Duration::ZERO;
                    s
                });
            }
            let server_now = now_pid.and_then(|p| self.sample_server(p));
            if let Some(p) = now_pid {
                // A dead embedded server would make every later figure an error count: stop,
                // leaving the results marked incomplete.
                if !server_now.is_some_and(|s| s.alive) {
                    return Err(Error::ServerDied {
                        pid: p,
                        transport: transport.to_string(),
                    });
                }
            }
            if now_pid.is_some() {
                pid = now_pid;
            }
            let chaos_now = self.chaos_counts();
            let chaos = chaos_now.since(&prev_chaos);
            prev_chaos = chaos_now;
            // An external target's figures: read while the workers report, as `/healthz` is
            // (the second's end is already fixed), so a slow scrape cannot stretch it; after
            // `/healthz` rather than beside it, so both reuse the control client's one pooled
            // connection instead of opening a second one every second.
            let ((next, scraped), intervals) = tokio::join!(
                async { (self.healthz_next().await, self.scrape_server().await) },
                collect_all(workers),
            );
            let server_now = server_now.or(scraped);
            let dt = now.duration_since(prev_t).as_secs_f64().max(1e-6);
            prev_t = now;
            let mut second = Second {
                interval: intervals?,
                dt,
                loadgen_cpu_s: cpu_delta(prev_self, self_now),
                server_cpu_s: cpu_delta(prev_server, server_now),
                generated: match (prev_next, next) {
                    (Some(a), Some(b)) => b.next.saturating_sub(a.next),
                    _ => 0,
                },
                loadgen: self_now,
                server: server_now,
            };
            (prev_self, prev_server) = (self_now.or(prev_self), server_now.or(prev_server));
            if let (Some(f), Some((cpu0, next0))) = (&self.fanout, prev_fanout) {
                // The floor's threads run in this process: their CPU is the phase's server CPU.
                let (cpu, next) = (f.cpu(), f.next_seq());
                let d = cpu.saturating_sub(cpu0).as_secs_f64();
                second.server_cpu_s = d;
                second.loadgen_cpu_s = (second.loadgen_cpu_s - d).max(0.0);
                second.generated = next.saturating_sub(next0);
                prev_fanout = Some((cpu, next));
            }
            if let (Some(a), Some(b)) = (prev_next, next) {
                if b.uptime_s < a.uptime_s {
                    window.restarts_seen += 1;
                    tracing::warn!(
                        "{transport}: the server restarted (uptime {:.1} s)",
                        b.uptime_s
                    );
                }
            }
            if next.is_some() {
                prev_next = next;
            }

            let loadgen_cpu_pct = 100.0 * second.loadgen_cpu_s / dt;
            let reasons = saturation::reasons(&Load {
                loadgen_cpu_pct,
                workers: self.opts.workers,
                schedule_lag_p99_us: second.interval.schedule_lag.value_at_quantile(0.99),
                loop_lag_p99_us: second.interval.loop_lag.value_at_quantile(0.99),
                latency_p99_us: second.interval.latency.value_at_quantile(0.99),
                poll_interval: self.opts.poll_interval,
            });
            let _ = window.first_ticks.add(&second.interval.first_tick);
            if stage == Stage::Measure {
                window.add(&second, loadgen_cpu_pct, reasons.clone());
                window.chaos.add(&chaos);
                steal_window.add(prev_steal, steal_now);
                // The floor's seconds are not a transport's: kept out of `latency.hlog`.
                if self.fanout.is_none() {
                    results.interval(
                        transport,
                        period_start_sys,
                        Duration::from_secs_f64(dt),
                        &second.interval.latency,
                    )?;
                }
            } else {
                window.unrecorded(&second.interval, transport, stage);
            }
            prev_steal = steal_now.or(prev_steal);
            let iv = second.interval;
            if !observed {
                continue;
            }
            self.send(Progress::Second(Box::new(SecondSnapshot {
                transport,
                stage,
                phase_elapsed: now.duration_since(start),
                run_elapsed: now.duration_since(run_start),
                run_total: self.opts.total_duration(),
                clients_connected: iv.connected,
                clients_target: self.opts.clients,
                ticks_per_s: second.generated as f64 / dt,
                server_cpu_pct: 100.0 * second.server_cpu_s / dt,
                loadgen_cpu_pct,
                saturated: !reasons.is_empty(),
                saturation_reasons: reasons,
                delivered: iv.counters.delivered,
                requests: iv.counters.requests,
                empty_responses: iv.counters.empty_responses,
                bytes: iv.counters.bytes,
                gaps: iv.counters.gaps,
                duplicates: iv.counters.duplicates,
                out_of_order: iv.counters.out_of_order,
                gap_notices: iv.counters.gap_notices,
                reconnects: iv.counters.reconnects,
                errors: iv.errors,
                interval: iv.latency,
            })));
        }

        // Stop the phase's clients and wait for them, so the next phase starts from zero.
        phase_cancel.cancel();
        let mut tail = Interval::default();
        for w in workers {
            tail.merge(&w.drain().await?);
        }
        window.unrecorded(&tail, transport, Stage::Measure);
        if window.secs == 0.0 {
            return Ok(None);
        }
        let (mut summary, latency) = window.into_summary(transport, self.opts.clients);
        summary.steal_pct = steal_window.pct();
        summary.link = self.opts.link_for(transport);
        if self.fanout.is_none() {
            results.phase_done(transport, latency)?;
        }
        Ok(Some(summary))
    }

    /// The server's CPU and RSS: the embedded server's, or the peer's processes.
    fn sample_server(&self, pid: u32) -> Option<crate::procstat::ProcSample> {
        match &self.peer {
            Some(p) => p.sample(pid),
            None => procstat::sample(Some(pid)),
        }
    }

    /// An external target's CPU and RSS from its `/metrics` (`None` for any other server: the
    /// embedded one and peers are read from `/proc`, and the fan-out floor's phase reads the floor).
    async fn scrape_server(&self) -> Option<crate::procstat::ProcSample> {
        if !self.scrape_target || self.peer.is_some() || self.fanout.is_some() {
            return None;
        }
        process_metrics(&self.http, &self.base).await
    }

    /// The embedded server's pid now (the peer's, against a peer); `None` without one or while a
    /// chaos restart holds it.
    fn current_server_pid(&self) -> Option<u32> {
        if let Some(p) = &self.peer {
            return p.pid;
        }
        let c = self.child.as_ref()?;
        c.try_lock().ok().map(|c| c.pid())
    }

    fn chaos_counts(&self) -> ChaosCounts {
        self.proxy.as_ref().map(|p| p.counts()).unwrap_or_default()
    }

    /// The resolved configuration recorded in `summary.json`.
    fn config_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.opts).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.insert("target".into(), self.target.clone().into());
            m.insert("embedded_server".into(), self.server_pid.is_some().into());
            m.insert("server_pid".into(), self.server_pid.into());
            m.insert(
                "server_version".into(),
                match self.server_pid {
                    Some(_) => env!("CARGO_PKG_VERSION").into(),
                    None => "unknown (external --target)".into(),
                },
            );
            if self.server_pid.is_none() {
                m.insert(
                    "server_stats".into(),
                    if self.scrape_target {
                        "external --target: server CPU and RSS read each second from its \
                         /metrics (process_cpu_seconds_total, process_resident_memory_bytes)"
                    } else {
                        "not measured: external --target without process_* metrics, server CPU \
                         and RSS are reported as 0"
                    }
                    .into(),
                );
            }
            m.insert("server_rate".into(), self.symbols.rate.into());
            m.insert("server_seed".into(), self.symbols.seed.into());
            m.insert("server_retain".into(), self.symbols.retain.into());
            m.insert("server_symbols".into(), self.symbols.symbols.len().into());
            m.insert("floor_round_trips".into(), FLOOR_ROUND_TRIPS.into());
            if let Some(c) = &self.child {
                m.insert("server_epoch_us".into(), lock(c).args().epoch_us.into());
            }
            if let Some(p) = &self.peer {
                m.insert("peer".into(), p.config());
                m.insert("server_pid".into(), p.pid.into());
                m.insert("server_version".into(), p.kind.name().into());
                m.insert("embedded_server".into(), false.into());
                m.insert("server_stats".into(), p.config()["server_stats"].clone());
            }
            if self.proxy.is_some() {
                m.insert(
                    "chaos_proxy".into(),
                    "in-process TCP proxy: its CPU and sockets are the load generator's".into(),
                );
            }
        }
        v
    }

    /// `/healthz` of the server (not the proxy: the coordinator sees the server as it is).
    async fn healthz_next(&self) -> Option<Health> {
        healthz(&self.http, &self.base).await
    }

    fn send(&self, p: Progress) {
        if let Some(tx) = &self.progress {
            let _ = tx.try_send(p);
        }
    }
}

/// Collects and merges one interval from every worker.
async fn collect_all(workers: &[Worker]) -> Result<Interval, Error> {
    let all = futures_util::future::join_all(workers.iter().map(Worker::collect)).await;
    let mut merged = Interval::default();
    for iv in all {
        merged.merge(&iv?);
    }
    Ok(merged)
}

/// A floor measurement task that panicked.
fn floor_task(e: tokio::task::JoinError) -> Error {
    Error::Os {
        what: "floor measurement task".into(),
        source: std::io::Error::other(e),
    }
}
