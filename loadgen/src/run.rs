//! The run: resolve the target (or start the embedded server), measure the loopback floor, then one
//! phase per transport, each with ramp-up, warm-up and a measured window, and write the results.
//!
//! The coordinator runs on the calling thread (a small current-thread runtime); the clients run on
//! the [`Worker`] threads. Every second the coordinator collects each worker's interval, merges them
//! with `Histogram::add`, samples CPU and memory of both processes and the server's journal head,
//! judges saturation, records the second (if it belongs to a measured window) and sends a
//! [`Progress::Second`]. Collections also happen exactly at stage boundaries, so every interval
//! belongs to one stage and only the measured ones reach the results.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use hdrhistogram::Histogram;
use rand::SeedableRng;
use tickbench_wire::{Summary, Symbols, Transport, TransportSummary, SCHEMA_VERSION};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chaos::{ChaosCounts, ChaosProxy};
use crate::child::{ChildServer, ServerArgs};
use crate::clients::{ClientConfig, ReadRate};
use crate::floor::{measure_cross_thread_floor, measure_floor};
use crate::opts::{RunOpts, Watch};
use crate::procstat::{self, ProcSample};
use crate::progress::{Progress, SecondSnapshot, Stage};
use crate::results::{latency_summary, ResultsDir};
use crate::saturation::{self, Load};
use crate::stats::{new_histogram, Counters, Interval};
use crate::worker::{Command, PhasePlan, Worker};

/// Round trips of the floor measurement.
const FLOOR_ROUND_TRIPS: usize = 10_000;
/// File descriptors kept free besides one per client (runtime, logs, results, the pool's extras).
const FD_MARGIN: u64 = 256;
/// Timeout of the coordinator's own requests (`/symbols`, `/healthz`).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the comparison, sending live events to `progress` (with `try_send`: a slow reader loses
/// snapshots, never slows the run) until done or `cancel` fires. Blocking; builds its own threads
/// and runtimes. Returns the summary (`complete: false` if cancelled) and the results folder, after
/// writing every result file.
pub fn run_with_progress(
    opts: RunOpts,
    progress: Option<mpsc::Sender<Progress>>,
    cancel: CancellationToken,
) -> anyhow::Result<(Summary, PathBuf)> {
    opts.validate()?;
    // Through the chaos proxy each client costs three descriptors here: its own socket, and the
    // proxy's accepted and upstream sockets, all in this process.
    let fds_per_client = if opts.chaos.is_some() { 3 } else { 1 };
    check_file_limit(opts.clients, fds_per_client)?;

    // The child, if any, lives until this function returns: dropping it stops the server on every
    // path out, errors and interruptions included.
    let child = match &opts.target {
        Some(_) => None,
        None => {
            let exe = match &opts.server_bin {
                Some(p) => p.clone(),
                None => std::env::current_exe().context("locating this executable")?,
            };
            Some(Arc::new(Mutex::new(ChildServer::start(ServerArgs {
                rate: Some(opts.rate),
                seed: Some(opts.seed),
                symbols: Some(opts.symbols),
                extra: opts.server_args.clone(),
                ..ServerArgs::new(exe)
            })?)))
        }
    };
    let target = match (&opts.target, &child) {
        (Some(t), _) => t.trim_end_matches('/').to_string(),
        (None, Some(c)) => lock(c).url().to_string(),
        (None, None) => unreachable!("a child is started when there is no target"),
    };
    let proxy = match opts.chaos {
        Some(spec) => {
            let threads = (opts.workers / 2).clamp(1, 4);
            let p = ChaosProxy::start(upstream_addr(&target)?, spec, opts.seed, threads)?;
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
        .context("building the coordinator runtime")?;
    let result = rt.block_on(async {
        let coordinator =
            Coordinator::connect(opts, target, child.clone(), proxy.clone(), progress, cancel)
                .await?;
        coordinator.run().await
    });
    // In order: no more restarts, no more proxy, then the server.
    drop(restarter);
    drop(proxy);
    drop(child);
    result
}

/// Locks the child server, whatever a panicking holder left behind (the process handle is still
/// right).
fn lock(c: &Mutex<ChildServer>) -> std::sync::MutexGuard<'_, ChildServer> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

/// `http://127.0.0.1:8080` → the socket address the chaos proxy forwards to.
fn upstream_addr(target: &str) -> anyhow::Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let url = reqwest::Url::parse(target)
        .with_context(|| format!("--target {target} is not an http:// URL"))?;
    let host = url
        .host_str()
        .with_context(|| format!("--target {target} has no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .with_context(|| format!("resolving {target} for the chaos proxy"))?
        .next()
        .with_context(|| format!("{target} resolves to no address"))
}

/// `--chaos restart=PERIOD`: a thread that restarts the embedded server every period (SIGTERM, then
/// the same server on the same port) and counts it. Dropping it stops the restarts.
struct Restarter {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Restarter {
    fn start(
        period: Duration,
        child: Arc<Mutex<ChildServer>>,
        proxy: Arc<ChaosProxy>,
    ) -> anyhow::Result<Restarter> {
        let (stop, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("chaos-restart".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(period)
                {
                    // The coordinator only `try_lock`s: while this holds the lock it knows the
                    // server is restarting and does not mistake the gap for a crash.
                    let mut c = lock(&child);
                    match c.restart() {
                        Ok(()) => proxy.count_restart(),
                        Err(e) => {
                            tracing::error!("chaos: restarting the server failed: {e:#}");
                            return;
                        }
                    }
                }
            })
            .context("spawning the restart thread")?;
        Ok(Restarter {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Restarter {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Cancels `cancel` on Ctrl-C or SIGTERM (from a small background thread), so a plain run stops
/// measuring, writes what it has as incomplete and stops its server.
pub fn cancel_on_signals(cancel: CancellationToken) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            rt.block_on(async {
                let Ok(mut term) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                    _ = cancel.cancelled() => return,
                }
                cancel.cancel();
            })
        })?;
    Ok(())
}

/// Refuses up front when the clients would not fit under the open-file limit (raising the soft
/// limit to the hard one first if that is enough), naming the largest number that would.
/// `per_client` is the descriptors one client costs in this process (3 through the chaos proxy).
fn check_file_limit(clients: u64, per_client: u64) -> anyhow::Result<()> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let needed = clients.saturating_mul(per_client).saturating_add(FD_MARGIN);
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).context("reading RLIMIT_NOFILE")?;
    if needed <= soft {
        return Ok(());
    }
    if needed <= hard && setrlimit(Resource::RLIMIT_NOFILE, needed, hard).is_ok() {
        return Ok(());
    }
    let limit = hard.max(soft);
    let why = if per_client > 1 {
        format!(" ({per_client} per client: the chaos proxy holds two more sockets per client)")
    } else {
        String::new()
    };
    anyhow::bail!(
        "--clients {clients} needs about {needed} open files{why} but this process may open at most {limit} (ulimit -n); the largest safe --clients is {}",
        limit.saturating_sub(FD_MARGIN) / per_client
    )
}

/// Everything one run needs while it measures.
struct Coordinator {
    opts: RunOpts,
    target: String,
    /// The server, for the coordinator's own requests.
    base: reqwest::Url,
    /// Where the clients connect: the server, or the chaos proxy in front of it.
    client_base: reqwest::Url,
    http: reqwest::Client,
    server_pid: Option<u32>,
    progress: Option<mpsc::Sender<Progress>>,
    cancel: CancellationToken,
    /// Each client's watchlist, drawn once so every transport serves the same clients.
    watchlists: Vec<Option<Arc<[String]>>>,
    symbols: Symbols,
    /// The embedded server (locked by the restarter while it restarts it).
    child: Option<Arc<Mutex<ChildServer>>>,
    proxy: Option<Arc<ChaosProxy>>,
    /// Per client: read rate (bytes/s) if it is a slow consumer (`--slow-clients`), for the
    /// streams.
    slow_rate: Vec<Option<u64>>,
}

impl Coordinator {
    /// Checks that the target is a tickbench server and draws the watchlists.
    async fn connect(
        opts: RunOpts,
        target: String,
        child: Option<Arc<Mutex<ChildServer>>>,
        proxy: Option<Arc<ChaosProxy>>,
        progress: Option<mpsc::Sender<Progress>>,
        cancel: CancellationToken,
    ) -> anyhow::Result<Coordinator> {
        let base = reqwest::Url::parse(&format!("{target}/"))
            .ok()
            .filter(|u| u.scheme() == "http" && u.host().is_some())
            .with_context(|| format!("--target {target} is not an http:// URL"))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(CONTROL_TIMEOUT)
            .build()
            .context("building the control HTTP client")?;
        let symbols = fetch_symbols(&http, &base, &target).await?;
        let watchlists = draw_watchlists(&symbols, opts.watch, opts.clients, opts.seed);
        let slow_rate = slow_rates(&symbols, &watchlists, opts.slow_clients, opts.slow_factor);
        let client_base = match &proxy {
            Some(p) => reqwest::Url::parse(&format!("{}/", p.url()))
                .context("building the chaos proxy URL")?,
            None => base.clone(),
        };
        Ok(Coordinator {
            server_pid: child.as_deref().map(|c| lock(c).pid()),
            opts,
            target,
            base,
            client_base,
            http,
            progress,
            cancel,
            watchlists,
            symbols,
            child,
            proxy,
            slow_rate,
        })
    }

    async fn run(mut self) -> anyhow::Result<(Summary, PathBuf)> {
        let run_start = Instant::now();
        let started = SystemTime::now();
        let floor = tokio::task::spawn_blocking(|| measure_floor(FLOOR_ROUND_TRIPS))
            .await
            .context("floor measurement task")??;
        let floor_cross =
            tokio::task::spawn_blocking(|| measure_cross_thread_floor(FLOOR_ROUND_TRIPS))
                .await
                .context("floor measurement task")??;
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
        };
        results.write_summary(&summary)?;
        self.send(Progress::Started {
            target: self.target.clone(),
            transports: self.opts.transports.clone(),
            total: self.opts.total_duration(),
            floor_us_p50: floor.p50,
            floor_us_p99: floor.p99,
        });

        let workers = (0..self.opts.workers)
            .map(Worker::spawn)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let transports = self.opts.transports.clone();
        for (index, &transport) in transports.iter().enumerate() {
            if self.cancel.is_cancelled() {
                break;
            }
            let phase = self
                .phase(transport, index, &workers, &mut results, run_start)
                .await?;
            if let Some(t) = phase {
                summary.transports.push(t.clone());
                results.write_summary(&summary)?;
                self.send(Progress::PhaseFinished(Box::new(t)));
            }
        }
        drop(workers);

        summary.complete = !self.cancel.is_cancelled();
        results.finish(&summary)?;
        let dir = results.path().to_path_buf();
        self.send(Progress::Finished {
            summary: Box::new(summary.clone()),
            dir: dir.clone(),
        });
        Ok((summary, dir))
    }

    /// One transport phase. `None` when interrupted before its measured window began.
    async fn phase(
        &mut self,
        transport: Transport,
        index: usize,
        workers: &[Worker],
        results: &mut ResultsDir,
        run_start: Instant,
    ) -> anyhow::Result<Option<TransportSummary>> {
        let o = &self.opts;
        let (ramp, warm_end, end) = (o.ramp, o.ramp + o.warmup, o.ramp + o.warmup + o.duration);
        let phase_cancel = self.cancel.child_token();
        let start = Instant::now();

        // Clients round-robin over the workers, start times spread evenly over the ramp.
        let mut plans: Vec<Vec<_>> = (0..workers.len()).map(|_| Vec::new()).collect();
        for i in 0..o.clients {
            let offset = ramp.mul_f64(i as f64 / o.clients as f64);
            plans[i as usize % workers.len()]
                .push((offset, self.client_config(transport, index, i)));
        }
        for (w, clients) in workers.iter().zip(plans) {
            w.send(Command::Phase(PhasePlan {
                clients,
                start,
                cancel: phase_cancel.clone(),
            }))?;
        }
        self.send(Progress::PhaseStarted {
            transport,
            index,
            of: self.opts.transports.len(),
            clients: self.opts.clients,
            duration: end,
        });

        let mut window = Window {
            chaos_on: self.proxy.is_some(),
            slow_clients: if transport.is_streaming() {
                self.slow_rate.iter().filter(|p| p.is_some()).count() as u64
            } else {
                0
            },
            ..Window::default()
        };
        let mut prev_t = start;
        let mut prev_self = procstat::sample(None);
        let mut pid = self.current_server_pid();
        let mut prev_server = pid.and_then(|p| procstat::sample(Some(p)));
        let mut prev_chaos = self.chaos_counts();
        let mut prev_next = self.healthz_next().await;
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
            // `None` while a chaos restart holds the server: no sample, no liveness check.
            let now_pid = self.current_server_pid();
            if now_pid != pid {
                // A restarted server is a new process: its CPU counts from its own zero.
                prev_server = now_pid.and_then(|p| procstat::sample(Some(p)));
                prev_server = prev_server.map(|mut s| {
                    s.cpu = Duration::ZERO;
                    s
                });
            }
            let server_now = now_pid.and_then(|p| procstat::sample(Some(p)));
            if let Some(p) = now_pid {
                // A dead embedded server would make every later figure an error count: stop,
                // leaving the results marked incomplete.
                anyhow::ensure!(
                    server_now.is_some_and(|s| s.alive),
                    "the embedded server (pid {p}) exited during the {transport} phase"
                );
            }
            if now_pid.is_some() {
                pid = now_pid;
            }
            let chaos_now = self.chaos_counts();
            let chaos = chaos_now.since(&prev_chaos);
            prev_chaos = chaos_now;
            let (intervals, next) = tokio::join!(collect_all(workers), self.healthz_next());
            let dt = now.duration_since(prev_t).as_secs_f64().max(1e-6);
            prev_t = now;
            let second = Second {
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
                results.interval(
                    transport.name(),
                    period_start_sys,
                    Duration::from_secs_f64(dt),
                    &second.interval.latency,
                )?;
            } else {
                window.unrecorded(&second.interval, transport, stage);
            }
            let iv = second.interval;
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
        let (summary, latency) = window.into_summary(transport, self.opts.clients);
        results.phase_done(transport.name(), latency)?;
        Ok(Some(summary))
    }

    fn client_config(&self, transport: Transport, phase: usize, i: u64) -> ClientConfig {
        let mut cfg = ClientConfig::new(self.base.clone(), transport);
        cfg.symbols = self.watchlists[i as usize].clone();
        cfg.poll_interval = self.opts.poll_interval;
        cfg.action_rate = self.opts.action_rate;
        cfg.longpoll_timeout = self.opts.longpoll_timeout;
        cfg.since = None;
        cfg.seed = mix(self.opts.seed, (phase as u64) << 40 | i);
        cfg.base = self.client_base.clone();
        cfg.local_addr = source_address(i, self.opts.clients);
        if transport.is_streaming() {
            cfg.read_rate = self.slow_rate[i as usize].map(ReadRate::new);
        }
        cfg
    }

    /// The embedded server's pid now; `None` without one or while a chaos restart holds it.
    fn current_server_pid(&self) -> Option<u32> {
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
                    "not measured: external --target, server CPU and RSS are reported as 0".into(),
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
            if self.proxy.is_some() {
                m.insert(
                    "chaos_proxy".into(),
                    "in-process TCP proxy: its CPU and sockets are the load generator's".into(),
                );
            }
        }
        v
    }

    /// The server's journal head and uptime (`next`, `uptime_s` of `/healthz`), `None` if it did
    /// not answer.
    async fn healthz_next(&self) -> Option<Health> {
        let url = self.base.join("healthz").ok()?;
        let r = self
            .http
            .get(url)
            .timeout(Duration::from_millis(800))
            .send()
            .await
            .ok()?;
        r.json::<Health>().await.ok()
    }

    fn send(&self, p: Progress) {
        if let Some(tx) = &self.progress {
            let _ = tx.try_send(p);
        }
    }
}

/// What the coordinator reads from `/healthz` every second.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
struct Health {
    next: u64,
    /// Falls when the server was restarted between two samples: a restart the run saw (whoever
    /// did it), recorded as such rather than left to look like loss.
    #[serde(default)]
    uptime_s: f64,
}

/// Collects and merges one interval from every worker.
async fn collect_all(workers: &[Worker]) -> anyhow::Result<Interval> {
    let all = futures_util::future::join_all(workers.iter().map(Worker::collect)).await;
    let mut merged = Interval::default();
    for iv in all {
        merged.merge(&iv?);
    }
    Ok(merged)
}

/// One collected second and what was sampled with it.
struct Second {
    /// Every worker's interval, merged.
    interval: Interval,
    /// Its length, seconds.
    dt: f64,
    /// CPU seconds of the load generator and the server in it.
    loadgen_cpu_s: f64,
    server_cpu_s: f64,
    /// Ticks the server generated in it (journal head delta).
    generated: u64,
    /// The processes at its end.
    loadgen: Option<ProcSample>,
    server: Option<ProcSample>,
}

/// A phase's measured window, accumulated second by second, plus what the phase saw outside it.
struct Window {
    measured: Interval,
    secs: f64,
    loadgen_cpu_s: f64,
    server_cpu_s: f64,
    ticks_generated: u64,
    max_loadgen_cpu_pct: f64,
    last_loadgen: Option<ProcSample>,
    last_server: Option<ProcSample>,
    /// The server at the end of the window's first second: with `last_server`, whether its memory
    /// stayed flat after warm-up (slow consumers must not make it grow).
    first_server: Option<ProcSample>,
    saturation_reasons: Vec<String>,
    /// Time to first tick of every client of the phase, whatever the stage it happened in.
    first_ticks: Histogram<u64>,
    /// Sequence problems during ramp, warm-up and the drain: not in the figures, but not lost.
    unrecorded: Counters,
    /// `--chaos`: whether the proxy was on, and the faults it injected in the measured window.
    chaos_on: bool,
    chaos: ChaosCounts,
    /// `--slow-clients`: how many of the phase's clients read slowly.
    slow_clients: u64,
    /// Server restarts seen during the phase (its `/healthz` uptime fell), by chaos or by anyone.
    restarts_seen: u64,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            measured: Interval::default(),
            secs: 0.0,
            loadgen_cpu_s: 0.0,
            server_cpu_s: 0.0,
            ticks_generated: 0,
            max_loadgen_cpu_pct: 0.0,
            last_loadgen: None,
            last_server: None,
            first_server: None,
            saturation_reasons: Vec::new(),
            first_ticks: new_histogram(),
            unrecorded: Counters::default(),
            chaos_on: false,
            chaos: ChaosCounts::default(),
            slow_clients: 0,
            restarts_seen: 0,
        }
    }
}

impl Window {
    /// Adds one measured second.
    fn add(&mut self, s: &Second, loadgen_cpu_pct: f64, reasons: Vec<String>) {
        self.measured.merge_over_time(&s.interval);
        self.secs += s.dt;
        self.loadgen_cpu_s += s.loadgen_cpu_s;
        self.server_cpu_s += s.server_cpu_s;
        self.ticks_generated += s.generated;
        self.max_loadgen_cpu_pct = self.max_loadgen_cpu_pct.max(loadgen_cpu_pct);
        self.last_loadgen = s.loadgen.or(self.last_loadgen);
        self.last_server = s.server.or(self.last_server);
        self.first_server = self.first_server.or(s.server);
        // One late second does not make a phase's latencies the instrument's: the event loop
        // is judged over the whole window in `into_summary`. CPU and schedule stay per second.
        let sustained = reasons
            .into_iter()
            .filter(|r| !saturation::is_loop_lag(r))
            .collect();
        saturation::accumulate(&mut self.saturation_reasons, sustained);
    }

    /// Ramp, warm-up and after-window deliveries are not recorded, but they are sequence-checked:
    /// a loss there must not vanish silently, so it is logged and counted in `extra`.
    fn unrecorded(&mut self, iv: &Interval, transport: Transport, stage: Stage) {
        let c = &iv.counters;
        if c.loss() > 0 {
            tracing::warn!(
                "{transport}: loss outside the measured window ({stage:?}): {} gaps, {} duplicates, {} out of order",
                c.gaps,
                c.duplicates,
                c.out_of_order
            );
        }
        self.unrecorded.gaps += c.gaps;
        self.unrecorded.duplicates += c.duplicates;
        self.unrecorded.out_of_order += c.out_of_order;
    }

    /// The phase's row of `summary.json`, and its merged latency histogram.
    fn into_summary(
        self,
        transport: Transport,
        clients: u64,
    ) -> (TransportSummary, Histogram<u64>) {
        let m = self.measured;
        let c = m.counters;
        let mut saturation_reasons = self.saturation_reasons;
        if !m.loop_lag.is_empty() {
            saturation::accumulate(
                &mut saturation_reasons,
                saturation::loop_lag_reason(
                    m.loop_lag.value_at_quantile(0.99),
                    m.latency.value_at_quantile(0.99),
                )
                .into_iter()
                .collect(),
            );
        }
        let mut extra = BTreeMap::from([
            ("negative_latency".to_string(), c.negative_latency as f64),
            ("latency_clamped".to_string(), c.latency_clamped as f64),
            (
                "ticks_per_s".to_string(),
                self.ticks_generated as f64 / self.secs,
            ),
            (
                "loss_outside_window".to_string(),
                self.unrecorded.loss() as f64,
            ),
            (
                "loop_lag_us_p99".to_string(),
                m.loop_lag.value_at_quantile(0.99) as f64,
            ),
            ("loadgen_cpu_pct_max".to_string(), self.max_loadgen_cpu_pct),
            // Clients that received a tick in the window's last second: "still receiving".
            ("clients_active_last_s".to_string(), m.active as f64),
            // ... or within its last 5 s (a client mid-reconnect is still alive).
            ("clients_active_last_5s".to_string(), m.active_recent as f64),
        ]);
        if let Some(first) = self.first_server {
            extra.insert(
                "server_rss_window_start_bytes".into(),
                first.rss_bytes as f64,
            );
        }
        if self.restarts_seen > 0 {
            extra.insert("server_restarts_seen".into(), self.restarts_seen as f64);
        }
        let per_s = |n: u64| {
            if self.secs > 0.0 {
                n as f64 / self.secs
            } else {
                0.0
            }
        };
        if self.chaos_on {
            let k = self.chaos;
            for (key, v) in [
                ("chaos_resets", k.resets as f64),
                ("chaos_stalls", k.stalls as f64),
                ("chaos_cuts", k.cuts as f64),
                ("chaos_restarts", k.restarts as f64),
                ("chaos_connections", k.connections as f64),
                ("chaos_upstream_refused", k.upstream_refused as f64),
                ("chaos_faults_per_s", per_s(k.faults())),
                ("reconnects_per_s", per_s(c.reconnects)),
            ] {
                extra.insert(key.to_string(), v);
            }
        }
        if self.slow_clients > 0 {
            let q = |h: &Histogram<u64>, p: f64| {
                if h.is_empty() {
                    0.0
                } else {
                    h.value_at_quantile(p) as f64
                }
            };
            for (key, v) in [
                ("slow_clients", self.slow_clients as f64),
                ("slow_delivered", c.slow_delivered as f64),
                ("slow_gap_notices", c.slow_gap_notices as f64),
                (
                    "normal_gap_notices",
                    c.gap_notices.saturating_sub(c.slow_gap_notices) as f64,
                ),
                ("slow_latency_us_p50", q(&m.slow_latency, 0.5)),
                ("slow_latency_us_p99", q(&m.slow_latency, 0.99)),
                ("slow_latency_us_max", m.slow_latency.max() as f64),
            ] {
                extra.insert(key.to_string(), v);
            }
        }
        let first_tick_ms_p50 = if self.first_ticks.is_empty() {
            0.0
        } else {
            self.first_ticks.value_at_quantile(0.5) as f64 / 1000.0
        };
        let summary = TransportSummary {
            name: transport.name().to_string(),
            clients,
            clients_receiving: m.receiving,
            duration_s: self.secs,
            delivered: c.delivered,
            gaps: c.gaps,
            duplicates: c.duplicates,
            out_of_order: c.out_of_order,
            gap_notices: c.gap_notices,
            latency_us: latency_summary(&m.latency),
            requests: c.requests,
            empty_responses: c.empty_responses,
            bytes: c.bytes,
            errors: m.errors,
            reconnects: c.reconnects,
            first_tick_ms_p50,
            server_cpu_s: self.server_cpu_s,
            loadgen_cpu_s: self.loadgen_cpu_s,
            server_rss_bytes: self.last_server.map_or(0, |s| s.rss_bytes),
            loadgen_rss_bytes: self.last_loadgen.map_or(0, |s| s.rss_bytes),
            saturated: !saturation_reasons.is_empty(),
            saturation_reasons,
            schedule_lag_us_p99: m.schedule_lag.value_at_quantile(0.99),
            extra,
        };
        (summary, m.latency)
    }
}

fn cpu_delta(a: Option<ProcSample>, b: Option<ProcSample>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) => b.cpu.saturating_sub(a.cpu).as_secs_f64(),
        _ => 0.0,
    }
}

/// GET /symbols: proves the target is a tickbench server and lists its market.
async fn fetch_symbols(
    http: &reqwest::Client,
    base: &reqwest::Url,
    target: &str,
) -> anyhow::Result<Symbols> {
    let url = base.join("symbols").context("building the /symbols URL")?;
    let resp = http.get(url).send().await.map_err(|e| {
        // reqwest's own message is generic; the root cause ("Connection refused") is the news.
        let mut cause: &dyn std::error::Error = &e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        anyhow::anyhow!("cannot reach {target}: {cause}")
    })?;
    let status = resp.status();
    let not_tickbench = || {
        anyhow::anyhow!(
            "{target} is not a tickbench server (GET /symbols answered {status} without a symbol list)"
        )
    };
    if !status.is_success() {
        return Err(not_tickbench());
    }
    let symbols: Symbols = resp.json().await.map_err(|_| not_tickbench())?;
    if symbols.symbols.is_empty() {
        return Err(not_tickbench());
    }
    Ok(symbols)
}

/// Each client's watchlist: `n` distinct symbols drawn by popularity weight with a seeded RNG, so
/// a rerun with the same seed watches the same symbols. `None` = all symbols.
fn draw_watchlists(
    symbols: &Symbols,
    watch: Watch,
    clients: u64,
    seed: u64,
) -> Vec<Option<Arc<[String]>>> {
    let n = match watch {
        Watch::Count(n) if n < symbols.symbols.len() => n,
        _ => return vec![None; clients as usize],
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(mix(seed, 0x5741_5443_4821));
    let weights: Vec<f64> = symbols
        .symbols
        .iter()
        .map(|s| s.weight.max(1e-12))
        .collect();
    (0..clients)
        .map(|_| {
            let picked =
                rand::seq::index::sample_weighted(&mut rng, weights.len(), |i| weights[i], n)
                    .map(|idx| {
                        idx.into_iter()
                            .map(|i| symbols.symbols[i].sym.clone())
                            .collect::<Vec<_>>()
                    })
                    // Weights are positive and finite, so this cannot fail; fall back to the top n.
                    .unwrap_or_else(|_| {
                        symbols.symbols[..n].iter().map(|s| s.sym.clone()).collect()
                    });
            Some(Arc::from(picked))
        })
        .collect()
}

/// About how many bytes one tick takes on a stream (the tick's JSON plus its framing), for the
/// slow consumers' read rate. Framing differs a little per transport (SSE `id:`/`data:` lines,
/// multipart part headers, iframe script tags); the factor matters, not the exact bytes.
const STREAM_BYTES_PER_TICK: f64 = 160.0;

/// Each client's read rate (bytes/s) if it is one of the `share` slow consumers: `factor` times
/// slower than its ticks arrive (its tick rate is the server's rate times the popularity weights
/// of its watchlist). Slow clients are spread evenly over the client list (every 10th for 10 %),
/// so each worker and each ramp step gets its share.
fn slow_rates(
    symbols: &Symbols,
    watchlists: &[Option<Arc<[String]>>],
    share: f64,
    factor: f64,
) -> Vec<Option<u64>> {
    let weights: std::collections::HashMap<&str, f64> = symbols
        .symbols
        .iter()
        .map(|s| (s.sym.as_str(), s.weight))
        .collect();
    watchlists
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let (a, b) = (i as f64 * share, (i + 1) as f64 * share);
            if share <= 0.0 || b.floor() <= a.floor() {
                return None;
            }
            let weight: f64 = match w {
                Some(list) => list.iter().filter_map(|s| weights.get(s.as_str())).sum(),
                None => 1.0,
            };
            let bytes_per_s = symbols.rate * weight * STREAM_BYTES_PER_TICK / factor;
            Some(bytes_per_s.max(1.0) as u64)
        })
        .collect()
}

/// Above this many clients, connections are spread over source addresses 127.0.0.1, .2, …: one
/// (source, destination) pair has only ~28,000 ephemeral ports.
const CLIENTS_PER_SOURCE: u64 = 20_000;

/// Source address of client `i`: `None` (the kernel's choice) for runs that fit one address.
fn source_address(i: u64, clients: u64) -> Option<std::net::IpAddr> {
    if clients <= CLIENTS_PER_SOURCE {
        return None;
    }
    let k = (i / CLIENTS_PER_SOURCE).min(253) as u8;
    Some(std::net::Ipv4Addr::new(127, 0, 0, 1 + k).into())
}

/// SplitMix64 finalizer: turns (seed, index) into well-spread per-client seeds.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickbench_wire::SymbolInfo;

    fn market() -> Symbols {
        let raw: Vec<f64> = (1..=50).map(|k| 1.0 / k as f64).collect();
        let total: f64 = raw.iter().sum();
        Symbols {
            rate: 100.0,
            seed: 1,
            retain: 1000,
            epoch_us: 0,
            symbols: raw
                .iter()
                .enumerate()
                .map(|(i, w)| SymbolInfo {
                    sym: format!("S{i}"),
                    weight: w / total,
                    price: 10.0,
                })
                .collect(),
        }
    }

    #[test]
    fn watchlists_are_seeded_distinct_and_popularity_weighted() {
        let m = market();
        let a = draw_watchlists(&m, Watch::Count(5), 2000, 7);
        assert_eq!(a, draw_watchlists(&m, Watch::Count(5), 2000, 7));
        assert_ne!(a, draw_watchlists(&m, Watch::Count(5), 2000, 8));
        let mut hits = vec![0u32; 50];
        for w in &a {
            let w = w.as_ref().unwrap();
            assert_eq!(w.len(), 5);
            let mut u: Vec<&String> = w.iter().collect();
            u.sort();
            u.dedup();
            assert_eq!(u.len(), 5, "distinct symbols");
            for s in w.iter() {
                hits[s[1..].parse::<usize>().unwrap()] += 1;
            }
        }
        assert!(
            hits[0] > hits[49] * 3,
            "popular symbols drawn more: {hits:?}"
        );
        assert!(draw_watchlists(&m, Watch::All, 3, 1)
            .iter()
            .all(Option::is_none));
        assert!(draw_watchlists(&m, Watch::Count(50), 3, 1)
            .iter()
            .all(Option::is_none));
    }

    fn second(delivered: u64, latency_us: u64, gaps: u64) -> Second {
        let mut interval = Interval::default();
        interval.counters.delivered = delivered;
        interval.counters.gaps = gaps;
        interval.counters.requests = 10;
        interval.latency.record_n(latency_us, delivered).unwrap();
        interval.receiving = 3;
        Second {
            interval,
            dt: 1.0,
            loadgen_cpu_s: 0.25,
            server_cpu_s: 0.5,
            generated: 100,
            loadgen: None,
            server: None,
        }
    }

    #[test]
    fn window_sums_measured_seconds_and_keeps_outside_loss_apart() {
        let mut w = Window::default();
        // A warm-up second with a gap: not in the figures, but counted on the side.
        w.unrecorded(
            &second(50, 9_999, 2).interval,
            Transport::Sse,
            Stage::Warmup,
        );
        w.add(&second(100, 1_000, 0), 12.5, vec![]);
        w.add(
            &second(300, 3_000, 0),
            80.0,
            vec!["schedule behind: p99 lag 200 ms".into()],
        );
        let (t, h) = w.into_summary(Transport::Sse, 3);
        assert_eq!(t.delivered, 400);
        assert_eq!(t.gaps, 0);
        assert_eq!(t.extra["loss_outside_window"], 2.0);
        assert_eq!(t.duration_s, 2.0);
        assert_eq!(t.deliveries_per_s(), 200.0);
        assert_eq!(t.requests, 20);
        assert_eq!(t.server_cpu_s, 1.0);
        assert_eq!(t.extra["ticks_per_s"], 100.0);
        assert_eq!(t.extra["loadgen_cpu_pct_max"], 80.0);
        assert_eq!(t.clients_receiving, 3);
        assert!(t.saturated);
        assert_eq!(h.len(), 400);
        assert_eq!(t.latency_us.max, h.max());
        assert!(
            t.latency_us.p50 >= 2_990 && t.latency_us.p50 <= 3_010,
            "{:?}",
            t.latency_us
        );
    }

    #[test]
    fn slow_clients_are_an_even_share_reading_factor_times_slower() {
        let m = market();
        let lists = draw_watchlists(&m, Watch::All, 100, 1);
        let rates = slow_rates(&m, &lists, 0.1, 10.0);
        assert_eq!(rates.iter().filter(|r| r.is_some()).count(), 10);
        assert!(rates[..10].iter().filter(|r| r.is_some()).count() == 1);
        // All symbols at 100 ticks/s, 160 B each, 10× slower.
        assert_eq!(rates.iter().flatten().next(), Some(&1600));
        assert!(slow_rates(&m, &lists, 0.0, 10.0)
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn large_runs_spread_over_loopback_sources() {
        assert_eq!(source_address(5, 2000), None);
        assert_eq!(
            source_address(0, 50_000),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            source_address(45_000, 50_000),
            Some("127.0.0.3".parse().unwrap())
        );
    }

    #[test]
    fn file_limit_refusal_names_the_largest_safe_number() {
        let err = check_file_limit(u64::MAX / 2, 1).unwrap_err().to_string();
        assert!(err.contains("largest safe --clients is"), "{err}");
        let err = check_file_limit(u64::MAX / 8, 3).unwrap_err().to_string();
        assert!(err.contains("chaos proxy"), "{err}");
        check_file_limit(10, 1).unwrap();
        check_file_limit(10, 3).unwrap();
    }
}
