//! The coordinator of a run across agents: finds `N` agents, splits the clients across them and
//! the edges, starts them at one wall time, watches their heartbeats, and merges what they send
//! back into one ordinary results folder (`summary.json`, `.hgrm`, `latency.hlog`, `report.md`,
//! `latency.svg`; `tickbench show` reads it) plus `agents.json`: per agent and per edge, each with
//! its clients, counts, loss, latency, takeovers and CPU and RSS (the agents', the edges', and
//! the local processes named with `--proc`). Every agent gets every edge, its own first, to fail
//! over to. An agent that goes silent is reported lost: the seconds its beats carried are kept,
//! merged and marked partial.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, UNIX_EPOCH};

use futures_util::StreamExt as _;
use serde_json::json;
use tickbench_loadgen::results::{latency_summary, ResultsDir};
use tickbench_wire::{now_micros, Summary, Transport};

use hdrhistogram::Histogram;
use tickbench_loadgen::stats::{new_histogram, takeover_summary};

use super::merge::{merge_intervals, merge_summaries, parse_hlog, whole, Intervals};
use super::partial::Partial;
use super::plan::{
    alive_subject, decode_histogram, plan_subject, result_subject, AgentResult, Assembler, Beat,
    Plan, HELLO,
};
use super::procs::Procs;
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
    /// Local processes whose CPU and RSS `agents.json` reports (`feed`, `nats`), by pid.
    pub procs: Vec<(String, u32)>,
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
        let others: Vec<&str> = (1..c.targets.len())
            .map(|k| c.targets[(i + k) % c.targets.len()].as_str())
            .collect();
        if !others.is_empty() {
            args.extend(["--failover".into(), others.join(",")]);
        }
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
    let http = reqwest::Client::new();
    let mut procs = Procs::new(&c.targets, &c.procs);
    procs.sample(&http).await;
    let mut last_sample = Instant::now();
    let mut partial: BTreeMap<String, Partial> = BTreeMap::new();

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
                        Err(e) => { got.insert(agent.clone(), AgentResult { agent, error: Some(format!("unreadable result: {e}")), summary: None, hlog: String::new(), takeover: BTreeMap::new() }); }
                    }
                }
            }
            Some(m) = alive.next() => {
                let Ok(beat) = serde_json::from_slice::<Beat>(&m.payload) else { continue };
                if !seen.contains_key(&beat.agent) || lost.contains(&beat.agent) { continue }
                seen.insert(beat.agent.clone(), Instant::now());
                if let Err(e) = partial.entry(beat.agent.clone()).or_default().add(&beat) {
                    tracing::warn!("agent {}: a beat could not be merged: {e}", beat.agent);
                }
            }
            _ = tick.tick() => {
                for (n, at) in &seen {
                    if !got.contains_key(n) && !lost.contains(n) && at.elapsed() > c.dead_after {
                        tracing::warn!("agent {n} is silent: reported lost, its beats kept");
                        lost.insert(n.clone());
                    }
                }
                if last_sample.elapsed() >= Duration::from_secs(5) {
                    procs.sample(&http).await;
                    last_sample = Instant::now();
                }
            }
        }
    }
    procs.sample(&http).await;
    write(
        c,
        &names,
        &assignment,
        &got,
        &lost,
        &partial,
        &procs,
        start_at_us,
    )
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
                // A "no responders" status (no agent up yet) comes with an empty payload.
                Some(m) = replies.next() => if !m.payload.is_empty() {
                    names.insert(String::from_utf8_lossy(&m.payload).into_owned());
                },
                () = &mut until => break,
            }
        }
    }
    Ok(names.into_iter().take(n).collect())
}

/// Merges the results (and the beats of lost agents) and writes the folder.
#[allow(clippy::too_many_arguments)]
fn write(
    c: &Coordination,
    names: &[String],
    assignment: &BTreeMap<String, (String, u64)>,
    got: &BTreeMap<String, AgentResult>,
    lost: &BTreeSet<String>,
    partial: &BTreeMap<String, Partial>,
    procs: &Procs,
    start_at_us: u64,
) -> Result<Coordinated, Error> {
    let mut merged = Intervals::new();
    let mut per_agent: BTreeMap<&str, Intervals> = BTreeMap::new();
    let mut takeovers: BTreeMap<&str, BTreeMap<String, Histogram<u64>>> = BTreeMap::new();
    for (name, r) in got {
        let iv = parse_hlog(&r.hlog).map_err(|e| err(format!("agent {name}: {e}")))?;
        merge_intervals(&mut merged, &iv).map_err(err)?;
        per_agent.insert(name, iv);
        let t = r
            .takeover
            .iter()
            .filter_map(|(t, h)| Some((t.clone(), decode_histogram(h)?)))
            .collect();
        takeovers.insert(name, t);
    }
    // A lost agent: what its beats carried, up to its death.
    let mut partial_summaries: Vec<(String, Summary)> = Vec::new();
    let template = got.values().find_map(|r| r.summary.as_ref());
    for name in lost {
        let Some(p) = partial.get(name) else { continue };
        merge_intervals(&mut merged, &p.seconds).map_err(err)?;
        per_agent.insert(name, p.seconds.clone());
        takeovers.insert(name, p.takeover.clone());
        if let Some(t) = template {
            let mut s = t.clone();
            s.complete = false;
            s.transports = p.rows();
            partial_summaries.push((name.clone(), s));
        }
    }
    let mut summaries: Vec<&Summary> = got.values().filter_map(|r| r.summary.as_ref()).collect();
    summaries.extend(partial_summaries.iter().map(|(_, s)| s));
    let mut summary = merge_summaries(&summaries, &merged, &c.label).ok_or_else(|| {
        err(format!(
            "no agent finished its run (lost: {})",
            lost.iter().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    summary.complete &= lost.is_empty() && got.values().all(|r| r.error.is_none());
    let mut merged_takeover: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    for per in takeovers.values() {
        for (t, h) in per {
            let _ = merged_takeover
                .entry(t.clone())
                .or_insert_with(new_histogram)
                .add(h);
        }
    }
    for row in &mut summary.transports {
        row.takeover = merged_takeover.get(&row.name).and_then(takeover_summary);
    }
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
                "takeover": t.takeover,
                "loadgen_cpu_s": t.loadgen_cpu_s, "loadgen_rss_bytes": t.loadgen_rss_bytes,
            })
        }).collect()
    };
    let summary_of = |n: &str| -> Option<&Summary> {
        got.get(n).and_then(|r| r.summary.as_ref()).or_else(|| {
            partial_summaries
                .iter()
                .find(|(m, _)| m == n)
                .map(|(_, s)| s)
        })
    };
    let mut lost_lines = Vec::new();
    let agents: Vec<serde_json::Value> = names
        .iter()
        .map(|n| {
            let (target, share) = assignment.get(n).cloned().unwrap_or_default();
            let r = got.get(n);
            let p = partial.get(n);
            let lost_at_s = p.map_or(0.0, |p| p.last_at_ms as f64 / 1000.0);
            let status = match (r, lost.contains(n)) {
                (Some(r), _) => r
                    .error
                    .clone()
                    .map_or("ok".to_string(), |e| format!("failed: {e}")),
                (None, true) => {
                    let line = format!(
                        "agent {n} lost at {lost_at_s:.0} s (silent for over {:?}); its data up to {lost_at_s:.0} s is kept and marked partial",
                        c.dead_after
                    );
                    lost_lines.push(line.clone());
                    "lost".to_string()
                }
                (None, false) => "missing".to_string(),
            };
            let rss = p.map_or(0, |p| p.rss_max);
            json!({
                "agent": n, "target": target, "clients": share, "status": status,
                "partial": lost.contains(n),
                "lost_at_s": lost.contains(n).then_some(lost_at_s),
                "beats": p.map_or(0, |p| p.beats),
                "cpu_s": p.map_or(0.0, Partial::cpu_s),
                "rss_bytes": rss,
                "rss_per_client_bytes": rss.checked_div(share).unwrap_or(0),
                "transports": row_of(per_agent.get(n.as_str()), summary_of(n)),
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
        let sums: Vec<&Summary> = mine.iter().filter_map(|n| summary_of(n)).collect();
        let s = merge_summaries(&sums, &iv, target);
        let clients: u64 = mine
            .iter()
            .filter_map(|n| assignment.get(*n))
            .map(|a| a.1)
            .sum();
        let mut process = procs.json(target);
        if let (Some(o), Some(rss)) = (
            process.as_object_mut(),
            procs.json(target)["rss_peak_bytes"].as_u64(),
        ) {
            o.insert(
                "rss_per_subscriber_bytes".into(),
                json!(rss.checked_div(clients).unwrap_or(0)),
            );
        }
        edges.push(json!({
            "target": target, "agents": mine, "clients": clients, "process": process,
            "transports": row_of(Some(&iv), s.as_ref()),
        }));
    }
    let merged_counts: BTreeMap<&String, u64> =
        merged.iter().map(|(t, s)| (t, whole(s).len())).collect();
    let breakdown = json!({
        "agents": agents, "edges": edges, "processes": procs.locals_json(),
        "lost": lost_lines, "merged_latency_count": merged_counts,
    });
    let path = dir.path().join("agents.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&breakdown).map_err(err)?)
        .map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
    append_report(dir.path(), &breakdown)?;
    Ok(Coordinated {
        dir: dir.path().to_path_buf(),
        summary,
        breakdown,
    })
}

/// Adds the agents and edges, and any lost agent, to `report.md`.
fn append_report(dir: &std::path::Path, b: &serde_json::Value) -> Result<(), Error> {
    use std::fmt::Write as _;
    let mut out = String::from("\n## Agents and edges\n\n");
    for line in b["lost"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "- **{}**", line.as_str().unwrap_or(""));
    }
    out.push_str("\n| agent | edge | clients | status | CPU s | RSS MiB | RSS per client KB |\n|---|---|--:|---|--:|--:|--:|\n");
    let mib = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as f64 / (1u64 << 20) as f64;
    for a in b["agents"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} |",
            a["agent"].as_str().unwrap_or(""),
            a["target"].as_str().unwrap_or(""),
            a["clients"],
            a["status"].as_str().unwrap_or(""),
            a["cpu_s"].as_f64().unwrap_or(0.0),
            mib(&a["rss_bytes"]),
            a["rss_per_client_bytes"].as_u64().unwrap_or(0) as f64 / 1000.0,
        );
    }
    out.push_str(
        "\n| edge | clients | CPU s | RSS MiB | RSS per subscriber KB |\n|---|--:|--:|--:|--:|\n",
    );
    for e in b["edges"].as_array().into_iter().flatten() {
        let p = &e["process"];
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} | {:.1} |",
            e["target"].as_str().unwrap_or(""),
            e["clients"],
            p["cpu_s"].as_f64().unwrap_or(0.0),
            mib(&p["rss_peak_bytes"]),
            p["rss_per_subscriber_bytes"].as_u64().unwrap_or(0) as f64 / 1000.0,
        );
    }
    for (name, p) in b["processes"].as_object().into_iter().flatten() {
        let _ = writeln!(
            out,
            "\n{name}: CPU {:.1} s, RSS {:.1} MiB",
            p["cpu_s"].as_f64().unwrap_or(0.0),
            mib(&p["rss_peak_bytes"])
        );
    }
    let path = dir.join("report.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(&out);
    std::fs::write(&path, text).map_err(|e| err(format!("cannot write {}: {e}", path.display())))
}

fn loadgen_err(e: tickbench_loadgen::Error) -> Error {
    err(e)
}
