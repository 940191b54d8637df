//! `tickbench agent`: a load agent. It answers the coordinator's hello with its name, takes run
//! plans, runs each as `tickbench run` would (its share of the clients, against its edge, with
//! every other edge to fail over to), starting at the plan's wall time so every agent's phases
//! run in step, sends a [`Beat`] every second (that second's histograms and counters, its CPU
//! and RSS) and at the end its summary and its `latency.hlog`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Parser as _;
use futures_util::StreamExt as _;
use hdrhistogram::Histogram;
use tickbench_loadgen::clients::SourceAddrs;
use tickbench_loadgen::stats::new_histogram;
use tickbench_loadgen::{procstat, Progress, RunOpts, Stage};
use tickbench_wire::now_micros;
use tokio_util::sync::CancellationToken;

use super::plan::{
    alive_subject, encode_histogram, plan_subject, result_subject, send_parts, AgentResult, Beat,
    Plan, HELLO,
};
use crate::error::Error;

/// How `tickbench run`'s flags are parsed from a plan.
#[derive(Debug, clap::Parser)]
#[command(no_binary_name = true)]
struct RunArgs {
    #[command(flatten)]
    run: RunOpts,
}

/// Serves plans as agent `name` until `cancel`; its clients connect from `source_addrs` when
/// given (`tickbench agent --source-addrs`).
pub async fn serve(
    client: async_nats::Client,
    name: String,
    source_addrs: Option<SourceAddrs>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let sub_err =
        |e: async_nats::SubscribeError| Error::Feed(format!("agent: cannot subscribe: {e}"));
    let mut hello = client.subscribe(HELLO).await.map_err(sub_err)?;
    let mut plans = client
        .subscribe(plan_subject(&name))
        .await
        .map_err(sub_err)?;
    client
        .flush()
        .await
        .map_err(|e| Error::Feed(format!("agent: {e}")))?;
    tracing::info!(agent = %name, "waiting for a plan");
    loop {
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            Some(m) = hello.next() => {
                if let Some(reply) = m.reply {
                    let _ = client.publish(reply, name.clone().into()).await;
                }
            }
            Some(m) = plans.next() => {
                let plan: Plan = match serde_json::from_slice(&m.payload) {
                    Ok(p) => p,
                    Err(e) => {
                        if let Some(reply) = m.reply {
                            let _ = client.publish(reply, format!("bad plan: {e}").into()).await;
                        }
                        continue;
                    }
                };
                if let Some(reply) = m.reply {
                    let _ = client.publish(reply, "ok".into()).await;
                }
                run_plan(&client, &name, plan, source_addrs, &cancel).await;
            }
        }
    }
}

/// Runs one plan, sending a [`Beat`] every second, then its result (an error is sent as a
/// result too). Dropped mid-run (the agent killed in-process), it cancels its run and sends
/// nothing more: what the coordinator has is its beats.
async fn run_plan(
    client: &async_nats::Client,
    name: &str,
    plan: Plan,
    source_addrs: Option<SourceAddrs>,
    cancel: &CancellationToken,
) {
    let wait = plan.start_at_us.saturating_sub(now_micros());
    tokio::time::sleep(Duration::from_micros(wait)).await;
    let beats = alive_subject(&plan.run_id);
    let mut args = plan.args.clone();
    if let Some(r) = source_addrs {
        args.extend(["--source-addrs".to_string(), r.to_string()]);
    }
    let run_cancel = cancel.child_token();
    // Dropping this future (an abrupt end) stops the run it started.
    let _stop = run_cancel.clone().drop_guard();
    let out = tempfile::tempdir();
    let (opts, out) = match (RunArgs::try_parse_from(&args), out) {
        (Err(e), _) => {
            let why = format!(
                "bad run flags: {}",
                e.to_string().lines().next().unwrap_or("")
            );
            return send_result(client, &plan, failed(name, why)).await;
        }
        (_, Err(e)) => {
            return send_result(
                client,
                &plan,
                failed(name, format!("no temporary folder: {e}")),
            )
            .await
        }
        (Ok(a), Ok(out)) => (a.run, out),
    };
    let mut opts = opts;
    opts.out = out.path().to_path_buf();
    opts.no_tui = true;
    opts.quiet = true;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Progress>(256);
    let ran = tokio::task::spawn_blocking(move || {
        tickbench_loadgen::run_with_progress(opts, Some(tx), run_cancel)
    });
    tokio::pin!(ran);
    let mut beat = Beats::new(name, plan.start_at_us);
    let mut alive = tokio::time::interval(Duration::from_secs(1));
    let ran = loop {
        tokio::select! {
            r = &mut ran => break r,
            Some(p) = rx.recv() => {
                if let Some(b) = beat.take(p) {
                    publish(client, &beats, &b).await;
                }
            }
            _ = alive.tick() => {
                if beat.quiet_for() >= Duration::from_millis(1500) {
                    publish(client, &beats, &beat.bare()).await;
                }
            }
        }
    };
    while let Ok(p) = rx.try_recv() {
        if let Some(b) = beat.take(p) {
            publish(client, &beats, &b).await;
        }
    }
    let takeover = beat
        .takeovers
        .iter()
        .map(|(t, h)| (t.clone(), encode_histogram(h)))
        .collect();
    let result = match ran {
        Ok(Ok((summary, dir))) => AgentResult {
            agent: name.to_string(),
            error: None,
            summary: Some(summary),
            hlog: std::fs::read_to_string(dir.join("latency.hlog")).unwrap_or_default(),
            takeover,
        },
        Ok(Err(e)) => failed(name, e.to_string()),
        Err(e) => failed(name, format!("the run panicked: {e}")),
    };
    send_result(client, &plan, result).await;
}

async fn publish(client: &async_nats::Client, subject: &str, beat: &Beat) {
    if let Ok(bytes) = serde_json::to_vec(beat) {
        let _ = client.publish(subject.to_string(), bytes.into()).await;
    }
}

async fn send_result(client: &async_nats::Client, plan: &Plan, result: AgentResult) {
    let payload = serde_json::to_vec(&result).unwrap_or_default();
    let subject = result_subject(&plan.run_id);
    if let Err(e) = send_parts(client, &subject, &result.agent, &payload).await {
        tracing::warn!("agent {}: cannot send the result: {e}", result.agent);
    }
}

/// Turns the run's progress into beats, and keeps the takeovers of the measured seconds.
struct Beats {
    name: String,
    start_at_us: u64,
    transport: Option<String>,
    last: Instant,
    takeovers: BTreeMap<String, Histogram<u64>>,
}

impl Beats {
    fn new(name: &str, start_at_us: u64) -> Self {
        Beats {
            name: name.to_string(),
            start_at_us,
            transport: None,
            last: Instant::now(),
            takeovers: BTreeMap::new(),
        }
    }

    fn quiet_for(&self) -> Duration {
        self.last.elapsed()
    }

    /// A beat with nothing measured: the agent is alive (between phases, before the first).
    fn bare(&mut self) -> Beat {
        self.last = Instant::now();
        let me = procstat::sample(None).unwrap_or_default();
        Beat {
            agent: self.name.clone(),
            at_ms: now_micros().saturating_sub(self.start_at_us) / 1000,
            transport: self.transport.clone(),
            cpu_s: me.cpu.as_secs_f64(),
            rss_bytes: me.rss_bytes,
            ..Beat::default()
        }
    }

    fn take(&mut self, p: Progress) -> Option<Beat> {
        let s = match p {
            Progress::PhaseStarted { transport, .. } => {
                self.transport = Some(transport.name().to_string());
                return None;
            }
            Progress::Second(s) => s,
            Progress::Started { .. } | Progress::PhaseFinished(_) | Progress::Finished { .. } => {
                return None
            }
        };
        let mut b = self.bare();
        let measured = s.stage == Stage::Measure;
        b.transport = Some(s.transport.name().to_string());
        b.measured = measured;
        b.clients_connected = s.clients_connected;
        b.clients_target = s.clients_target;
        if measured {
            b.latency = encode_histogram(&s.interval);
            if let Some(t) = &s.takeover {
                b.takeover = encode_histogram(t);
                let into = self
                    .takeovers
                    .entry(s.transport.name().to_string())
                    .or_insert_with(new_histogram);
                let _ = into.add(t);
            }
            b.delivered = s.delivered;
            b.requests = s.requests;
            b.bytes = s.bytes;
            b.gaps = s.gaps;
            b.duplicates = s.duplicates;
            b.out_of_order = s.out_of_order;
            b.gap_notices = s.gap_notices;
            b.reconnects = s.reconnects;
            b.errors = s.errors;
        }
        Some(b)
    }
}

fn failed(name: &str, why: String) -> AgentResult {
    tracing::warn!("agent {name}: {why}");
    AgentResult {
        agent: name.to_string(),
        error: Some(why),
        summary: None,
        hlog: String::new(),
        takeover: BTreeMap::new(),
    }
}
