//! `tickbench agent`: a load agent. It answers the coordinator's hello with its name, takes run
//! plans, runs each as `tickbench run` would (its share of the clients, against its edge), starting
//! at the plan's wall time so every agent's phases run in step, says it is alive every second,
//! and sends back its summary and its `latency.hlog`.

use std::time::Duration;

use clap::Parser as _;
use futures_util::StreamExt as _;
use tickbench_loadgen::RunOpts;
use tickbench_wire::now_micros;
use tokio_util::sync::CancellationToken;

use super::plan::{
    alive_subject, plan_subject, result_subject, send_parts, AgentResult, Plan, HELLO,
};
use crate::error::Error;

/// How `tickbench run`'s flags are parsed from a plan.
#[derive(Debug, clap::Parser)]
#[command(no_binary_name = true)]
struct RunArgs {
    #[command(flatten)]
    run: RunOpts,
}

/// Serves plans as agent `name` until `cancel`.
pub async fn serve(
    client: async_nats::Client,
    name: String,
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
                run_plan(&client, &name, plan, &cancel).await;
            }
        }
    }
}

/// Runs one plan and sends its result (an error is sent as a result too).
async fn run_plan(client: &async_nats::Client, name: &str, plan: Plan, cancel: &CancellationToken) {
    let wait = plan.start_at_us.saturating_sub(now_micros());
    tokio::time::sleep(Duration::from_micros(wait)).await;
    let alive = tokio::spawn({
        let client = client.clone();
        let subject = alive_subject(&plan.run_id);
        let name = name.to_string();
        async move {
            loop {
                let _ = client.publish(subject.clone(), name.clone().into()).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    let out = tempfile::tempdir();
    let run_cancel = cancel.child_token();
    let result = match (RunArgs::try_parse_from(&plan.args), out) {
        (Err(e), _) => failed(
            name,
            format!(
                "bad run flags: {}",
                e.to_string().lines().next().unwrap_or("")
            ),
        ),
        (_, Err(e)) => failed(name, format!("no temporary folder: {e}")),
        (Ok(args), Ok(out)) => {
            let mut opts = args.run;
            opts.out = out.path().to_path_buf();
            opts.no_tui = true;
            let ran = tokio::task::spawn_blocking(move || {
                tickbench_loadgen::run_with_progress(opts, None, run_cancel)
            })
            .await;
            match ran {
                Ok(Ok((summary, dir))) => AgentResult {
                    agent: name.to_string(),
                    error: None,
                    summary: Some(summary),
                    hlog: std::fs::read_to_string(dir.join("latency.hlog")).unwrap_or_default(),
                },
                Ok(Err(e)) => failed(name, e.to_string()),
                Err(e) => failed(name, format!("the run panicked: {e}")),
            }
        }
    };
    alive.abort();
    let payload = serde_json::to_vec(&result).unwrap_or_default();
    if let Err(e) = send_parts(client, &result_subject(&plan.run_id), name, &payload).await {
        tracing::warn!("agent {name}: cannot send the result: {e}");
    }
}

fn failed(name: &str, why: String) -> AgentResult {
    tracing::warn!("agent {name}: {why}");
    AgentResult {
        agent: name.to_string(),
        error: Some(why),
        summary: None,
        hlog: String::new(),
    }
}
