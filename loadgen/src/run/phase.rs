//! One transport phase, second by second: the clients started over the ramp, every worker's
//! interval collected at each whole second and stage boundary, both processes and the server
//! sampled, saturation judged, the measured seconds recorded, and the phase's results row made.

use std::time::{Duration, Instant, SystemTime};

use tickbench_wire::{Transport, TransportSummary};

use crate::error::Error;
use crate::procstat;
use crate::progress::{Progress, SecondSnapshot, Stage};
use crate::results::ResultsDir;
use crate::run::driver::Coordinator;
use crate::run::window::{cpu_delta, Second, Window};
use crate::saturation::{self, Load};
use crate::stats::Interval;
use crate::steal::{self, StealWindow};
use crate::worker::{Command, PhasePlan, Worker};

impl Coordinator {
    /// One transport phase. `None` when interrupted before its measured window began.
    pub(super) async fn phase(
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
                // The floor's threads' CPU is the phase's server CPU; run in this process, it is
                // not the load generator's.
                let (cpu, next) = (f.cpu(), f.next_seq());
                let d = cpu.saturating_sub(cpu0).as_secs_f64();
                second.server_cpu_s = d;
                if f.in_process() {
                    second.loadgen_cpu_s = (second.loadgen_cpu_s - d).max(0.0);
                }
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
                takeover: (!iv.takeover.is_empty()).then_some(iv.takeover),
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
        let foreign =
            steal_window.foreign_pct(window.secs, window.server_cpu_s + window.loadgen_cpu_s);
        let (mut summary, latency) = window.into_summary(transport, self.opts.clients);
        summary.steal_pct = steal_window.pct();
        if let Some(f) = foreign {
            summary.extra.insert(steal::FOREIGN_CPU_KEY.into(), f);
        }
        summary.link = self.opts.link_for(transport);
        if self.fanout.is_none() {
            results.phase_done(transport, latency)?;
        }
        Ok(Some(summary))
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
