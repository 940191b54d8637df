//! What the coordinator and the agents say to each other over core NATS: the subjects, the run
//! plan an agent receives, the result it sends back (its summary and its `latency.hlog`, in
//! parts small enough for NATS's payload limit), and the heartbeat that tells a live agent from
//! a dead one.

use std::collections::HashMap;

use bytes::Bytes;
use tickbench_wire::Summary;

/// Coordinator → every agent, with a reply inbox: each agent answers its name.
pub const HELLO: &str = "tickbench.agents.hello";
/// Largest part of a result message (NATS's default payload limit is 1 MiB).
const PART: usize = 256 * 1024;
/// Header naming the sending agent.
const AGENT: &str = "Tickbench-Agent";
/// Header `i/n` of a part.
const PART_HDR: &str = "Tickbench-Part";

/// The subject an agent takes its plan on.
pub fn plan_subject(agent: &str) -> String {
    format!("tickbench.agent.{agent}.plan")
}

/// Where a run's agents send their results.
pub fn result_subject(run_id: &str) -> String {
    format!("tickbench.run.{run_id}.result")
}

/// Where a run's agents say, every second, that they are alive.
pub fn alive_subject(run_id: &str) -> String {
    format!("tickbench.run.{run_id}.alive")
}

/// One agent's share of a run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub run_id: String,
    /// `tickbench run` flags for this agent (its `--target`, `--clients` and `--label`
    /// included), parsed by the agent as `tickbench run` would.
    pub args: Vec<String>,
    /// Wall time (µs since the Unix epoch) at which every agent starts, so phases run in step.
    pub start_at_us: u64,
}

/// What an agent measured.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AgentResult {
    pub agent: String,
    /// Why the run failed, if it did (the summary and log may still hold what was measured).
    pub error: Option<String>,
    pub summary: Option<Summary>,
    /// Its `latency.hlog`: per transport per second, a serialized V2 histogram.
    pub hlog: String,
}

/// Publishes `payload` to `subject` in parts.
pub async fn send_parts(
    client: &async_nats::Client,
    subject: &str,
    agent: &str,
    payload: &[u8],
) -> Result<(), String> {
    let chunks: Vec<&[u8]> = if payload.is_empty() {
        vec![payload]
    } else {
        payload.chunks(PART).collect()
    };
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        let mut h = async_nats::HeaderMap::new();
        h.insert(AGENT, agent);
        h.insert(PART_HDR, format!("{}/{n}", i + 1).as_str());
        client
            .publish_with_headers(subject.to_string(), h, Bytes::copy_from_slice(c))
            .await
            .map_err(|e| e.to_string())?;
    }
    client.flush().await.map_err(|e| e.to_string())
}

/// Reassembles parts (which NATS delivers in order from one publisher).
#[derive(Debug, Default)]
pub struct Assembler {
    partial: HashMap<String, Vec<u8>>,
}

impl Assembler {
    /// Takes one part; a whole payload with its agent's name once its last part arrived.
    pub fn take(&mut self, msg: &async_nats::Message) -> Option<(String, Vec<u8>)> {
        let h = msg.headers.as_ref()?;
        let agent = h.get(AGENT)?.as_str().to_string();
        let (i, n) = h.get(PART_HDR)?.as_str().split_once('/')?;
        let (i, n): (usize, usize) = (i.parse().ok()?, n.parse().ok()?);
        let buf = self.partial.entry(agent.clone()).or_default();
        if i == 1 {
            buf.clear();
        }
        buf.extend_from_slice(&msg.payload);
        (i == n).then(|| {
            (
                agent.clone(),
                self.partial.remove(&agent).unwrap_or_default(),
            )
        })
    }
}
