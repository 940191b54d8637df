//! The CPU and RSS of the processes around a coordinated run: each edge's (its `/metrics`:
//! `process_cpu_seconds_total`, `process_resident_memory_bytes`) and local processes named
//! with `--proc NAME=PID` (the feed's, nats-server's, read from `/proc`). Each is read when the
//! run starts and then every few seconds, so an edge that dies keeps its last reading.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use tickbench_loadgen::procstat;

/// One reading: CPU seconds since the process started, resident memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub cpu_s: f64,
    pub rss_bytes: u64,
}

/// The processes watched and their first and latest readings, by name.
#[derive(Debug, Default)]
pub struct Procs {
    edges: Vec<String>,
    locals: Vec<(String, u32)>,
    first: BTreeMap<String, Reading>,
    last: BTreeMap<String, Reading>,
    /// The largest RSS seen.
    peak: BTreeMap<String, u64>,
}

impl Procs {
    pub fn new(edges: &[String], locals: &[(String, u32)]) -> Self {
        Procs {
            edges: edges.to_vec(),
            locals: locals.to_vec(),
            ..Procs::default()
        }
    }

    /// Reads every process once (those that do not answer keep their last reading).
    pub async fn sample(&mut self, http: &reqwest::Client) {
        for e in self.edges.clone() {
            if let Some(r) = edge(http, &e).await {
                self.record(&e, r);
            }
        }
        for (name, pid) in self.locals.clone() {
            if let Some(s) = procstat::sample(Some(pid)).filter(|s| s.alive) {
                let r = Reading {
                    cpu_s: s.cpu.as_secs_f64(),
                    rss_bytes: s.rss_bytes,
                };
                self.record(&name, r);
            }
        }
    }

    fn record(&mut self, name: &str, r: Reading) {
        self.first.entry(name.to_string()).or_insert(r);
        self.last.insert(name.to_string(), r);
        let p = self.peak.entry(name.to_string()).or_default();
        *p = (*p).max(r.rss_bytes);
    }

    /// `{cpu_s, rss_bytes, rss_peak_bytes}` of `name` over the run, or null if never read.
    pub fn json(&self, name: &str) -> serde_json::Value {
        match (self.first.get(name), self.last.get(name)) {
            (Some(a), Some(b)) => json!({
                "cpu_s": (b.cpu_s - a.cpu_s).max(0.0),
                "rss_bytes": b.rss_bytes,
                "rss_peak_bytes": self.peak.get(name).copied().unwrap_or(0),
            }),
            _ => serde_json::Value::Null,
        }
    }

    /// The local processes' figures, by name.
    pub fn locals_json(&self) -> serde_json::Value {
        self.locals
            .iter()
            .map(|(n, pid)| {
                let mut v = self.json(n);
                if let Some(o) = v.as_object_mut() {
                    o.insert("pid".into(), json!(pid));
                }
                (n.clone(), v)
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

/// An edge's `process_*` metrics.
async fn edge(http: &reqwest::Client, base: &str) -> Option<Reading> {
    let url = format!("{}/metrics", base.trim_end_matches('/'));
    let r = http
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    let text = r.error_for_status().ok()?.text().await.ok()?;
    let (mut cpu, mut rss) = (None, None);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(Ok(v))) = (parts.next(), parts.next().map(str::parse::<f64>)) else {
            continue;
        };
        match name {
            "process_cpu_seconds_total" if v.is_finite() => cpu = Some(v),
            "process_resident_memory_bytes" if v.is_finite() => rss = Some(v as u64),
            _ => {}
        }
    }
    Some(Reading {
        cpu_s: cpu?,
        rss_bytes: rss.unwrap_or(0),
    })
}
