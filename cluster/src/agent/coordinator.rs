//! The coordinator of a run across agents: finds `N` agents, splits the clients across them and
//! the edges, starts them at one wall time, watches their heartbeats, and merges what they send
//! back into one ordinary results folder (`summary.json`, `.hgrm`, `latency.hlog`, `report.md`,
//! `latency.svg`; `tickbench show` reads it) plus `agents.json`: per agent and per edge, each with
//! its clients, counts, loss, latency and the agent's CPU and RSS.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, UNIX_EPOCH};

use futures_util::StreamExt as _;
use serde_json::json;
use tickbench_loadgen::results::{latency_summary, ResultsDir};
use tickbench_wire::{now_micros, Summary, Transport};

use super::merge::{merge_intervals, merge_summaries, parse_hlog, whole, Intervals};
use super::plan::{
    alive_subject, plan_subject, result_subject, AgentResult, Assembler, Plan, HELLO,
};
use crate::error::Error;

/// What a coordinated run is asked for.
#[derive(Debug, Clone)]
pub struct Coordination {
    /// How many agents must answer.
    pub agents: usize,
    /// The edges (`http://HOST:PORT`); agent `i` measures edge `i mod M`.
    pub targets: Vec<String>,
    /// Clients across all agents.
    pub clients: u64,
    /// Further `tickbench run` flags for every agent (not `--target`, `--clients`, `--label`).
    pub run_args: Vec<String>,
    pub label: String,
    pub out: PathBuf,
    /// How long to wait for the agents to answer.
    pub wait: Duration,
    /// Time between sending the plans and the common start.
    pub start_delay: Duration,
    /// An agent silent for this long is reported lost.
    pub dead_after: Duration,
}

/// A finished coordinated run.
#[derive(Debug)]
pub struct Coordinated {
    pub dir: PathBuf,
    /// The run's merged summary.
    pub summary: Summary,
    /// `agents.json`'s content.
    pub breakdown: serde_json::Value,
}

fn err(why: impl std::fmt::Display) -> Error {
    Error::Feed(format!("coordinator: {why}"))
}

/// Runs `c` through the agents reachable at NATS `client`.
pub async fn coordinate(
    client: &async_nats::Client,
    c: &Coordination,
) -> Result<Coordinated, Error> {
    if c.targets.is_empty() || c.agents == 0 || c.clients < c.agents as u64 {
        return Err(err(
            "need at least one target, one agent and a client per agent",
        ));
    }
    let names = discover(client, c.agents, c.wait).await?;
    let run_id = now_micros().to_string();
    let mut results = client
        .subscribe(result_subject(&run_id))
        .await
        .map_err(err)?;
    let mut alive = client
        .subscribe(alive_subject(&run_id))
        .await
        .map_err(err)?;
    let start_at_us = now_micros() + c.start_delay.as_micros() as u64;
    let mut assignment = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let share =
            c.clients / c.agents as u64 + u64::from((i as u64) < c.clients % c.agents as u64);
        let target = c.targets[i % c.targets.len()].clone();
        let mut args = c.run_args.clone();
        args.extend([
            "--target".into(),
            target.clone(),
            "--clients".into(),
            share.to_string(),
            "--label".into(),
            name.clone(),
        ]);
        let plan = Plan {
            run_id: run_id.clone(),
            args,
            start_at_us,
        };
        let reply = client
            .request(
                plan_subject(name),
                serde_json::to_vec(&plan).map_err(err)?.into(),
            )
            .await
            .map_err(|e| err(format!("agent {name} did not take its plan: {e}")))?;
        if &reply.payload[..] != b"ok" {
            return Err(err(format!(
                "agent {name}: {}",
                String::from_utf8_lossy(&reply.payload)
            )));
        }
        assignment.insert(name.clone(), (target, share));
    }
    tracing::info!(run_id, agents = names.len(), "plans sent");

    // Collect: every agent's result, or its silence for `dead_after` after the start.
    let mut got: BTreeMap<String, AgentResult> = BTreeMap::new();
    let mut seen: BTreeMap<String, Instant> = names
        .iter()
        .map(|n| (n.clone(), Instant::now() + c.start_delay))
        .collect();
    let mut lost: BTreeSet<String> = BTreeSet::new();
    let mut asm = Assembler::default();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    while got.len() + lost.len() < names.len() {
        tokio::select! {
            Some(m) = results.next() => {
                if let Some((agent, bytes)) = asm.take(&m) {
                    match serde_json::from_slice::<AgentResult>(&bytes) {
                        Ok(r) => { got.insert(agent, r); }
                        Err(e) => { got.insert(agent.clone(), AgentResult { agent, error: Some(format!("unreadable result: {e}")), summary: None, hlog: String::new() }); }
                    }
                }
            }
            Some(m) = alive.next() => {
                seen.insert(String::from_utf8_lossy(&m.payload).into_owned(), Instant::now());
            }
            _ = tick.tick() => {
                for (n, at) in &seen {
                    if !got.contains_key(n) && at.elapsed() > c.dead_after {
                        lost.insert(n.clone());
                    }
                }
            }
        }
    }
    write(c, &names, &assignment, &got, &lost, start_at_us)
}

/// Asks `HELLO` until `n` agents answered (the first `n` names, sorted) or `wait` passed.
async fn discover(
    client: &async_nats::Client,
    n: usize,
    wait: Duration,
) -> Result<Vec<String>, Error> {
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await.map_err(err)?;
    let deadline = Instant::now() + wait;
    let mut names = BTreeSet::new();
    while names.len() < n {
        if Instant::now() > deadline {
            return Err(err(format!(
                "only {} of {n} agents answered within {wait:?} (start them with `tickbench agent --nats URL`)",
                names.len()
            )));
        }
        client
            .publish_with_reply(HELLO, inbox.clone(), "".into())
            .await
            .map_err(err)?;
        let until = tokio::time::sleep(Duration::from_millis(500));
        tokio::pin!(until);
        loop {
            tokio::select! {
                Some(m) = replies.next() => { names.insert(String::from_utf8_lossy(&m.payload).into_owned()); }
                () = &mut until => break,
            }
        }
    }
    Ok(names.into_iter().take(n).collect())
}

/// Merges the results and writes the folder.
fn write(
    c: &Coordination,
    names: &[String],
    assignment: &BTreeMap<String, (String, u64)>,
    got: &BTreeMap<String, AgentResult>,
    lost: &BTreeSet<String>,
    start_at_us: u64,
) -> Result<Coordinated, Error> {
    let mut merged = Intervals::new();
    let mut per_agent: BTreeMap<&str, Intervals> = BTreeMap::new();
    for (name, r) in got {
        let iv = parse_hlog(&r.hlog).map_err(|e| err(format!("agent {name}: {e}")))?;
        merge_intervals(&mut merged, &iv).map_err(err)?;
        per_agent.insert(name, iv);
    }
    let summaries: Vec<&Summary> = got.values().filter_map(|r| r.summary.as_ref()).collect();
    let mut summary = merge_summaries(&summaries, &merged, &c.label)
        .ok_or_else(|| err("no agent returned a summary"))?;
    summary.complete &= lost.is_empty() && got.values().all(|r| r.error.is_none());
    let started = UNIX_EPOCH + Duration::from_micros(start_at_us);
    let mut dir = ResultsDir::create(&c.out, &c.label, started).map_err(loadgen_err)?;
    for row in &summary.transports {
        let Ok(t) = row.name.parse::<Transport>() else {
            continue;
        };
        let Some(seconds) = merged.get(&row.name) else {
            continue;
        };
        for (&s, (len, h)) in seconds {
            dir.interval(t, started + Duration::from_secs(s), *len, h)
                .map_err(loadgen_err)?;
        }
        dir.phase_done(t, whole(seconds)).map_err(loadgen_err)?;
    }
    dir.finish(&summary).map_err(loadgen_err)?;

    let row_of = |iv: Option<&Intervals>, s: Option<&Summary>| -> Vec<serde_json::Value> {
        let Some(s) = s else { return Vec::new() };
        s.transports.iter().map(|t| {
            let h = iv.and_then(|iv| iv.get(&t.name)).map(whole);
            let count = h.as_ref().map_or(0, |h| h.len());
            let lat = h.as_ref().map(latency_summary).unwrap_or_default();
            json!({
                "transport": t.name, "clients": t.clients, "clients_receiving": t.clients_receiving,
                "delivered": t.delivered, "gaps": t.gaps, "duplicates": t.duplicates,
                "out_of_order": t.out_of_order, "gap_notices": t.gap_notices,
                "latency_count": count, "p50_us": lat.p50, "p99_us": lat.p99,
                "loadgen_cpu_s": t.loadgen_cpu_s, "loadgen_rss_bytes": t.loadgen_rss_bytes,
            })
        }).collect()
    };
    let agents: Vec<serde_json::Value> = names
        .iter()
        .map(|n| {
            let (target, share) = assignment.get(n).cloned().unwrap_or_default();
            let r = got.get(n);
            let status = match (r, lost.contains(n)) {
                (Some(r), _) => r
                    .error
                    .clone()
                    .map_or("ok".to_string(), |e| format!("failed: {e}")),
                (None, true) => format!(
                    "lost: silent for over {:?}; its data is missing",
                    c.dead_after
                ),
                (None, false) => "missing".to_string(),
            };
            json!({
                "agent": n, "target": target, "clients": share, "status": status,
                "transports": row_of(per_agent.get(n.as_str()), r.and_then(|r| r.summary.as_ref())),
            })
        })
        .collect();
    let mut edges = Vec::new();
    for target in &c.targets {
        let mine: Vec<&String> = names
            .iter()
            .filter(|n| assignment.get(*n).is_some_and(|a| &a.0 == target))
            .collect();
        let mut iv = Intervals::new();
        for n in &mine {
            if let Some(a) = per_agent.get(n.as_str()) {
                merge_intervals(&mut iv, a).map_err(err)?;
            }
        }
        let sums: Vec<&Summary> = mine
            .iter()
            .filter_map(|n| got.get(*n).and_then(|r| r.summary.as_ref()))
            .collect();
        let s = merge_summaries(&sums, &iv, target);
        edges.push(json!({ "target": target, "agents": mine, "transports": row_of(Some(&iv), s.as_ref()) }));
    }
    let merged_counts: BTreeMap<&String, u64> =
        merged.iter().map(|(t, s)| (t, whole(s).len())).collect();
    let breakdown =
        json!({ "agents": agents, "edges": edges, "merged_latency_count": merged_counts });
    let path = dir.path().join("agents.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&breakdown).map_err(err)?)
        .map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
    Ok(Coordinated {
        dir: dir.path().to_path_buf(),
        summary,
        breakdown,
    })
}

fn loadgen_err(e: tickbench_loadgen::Error) -> Error {
    err(e)
}
