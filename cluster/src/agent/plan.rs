//! What the coordinator and the agents say to each other over core NATS: the subjects, the run
//! plan an agent receives, the [`Beat`] it sends every second of the run (that second's
//! histograms and counters and the agent's CPU and RSS: what the coordinator keeps of an agent
//! that dies), and the result it sends at the end (its summary and its `latency.hlog`, in parts
//! small enough for NATS's payload limit).

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use bytes::Bytes;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use hdrhistogram::Histogram;
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

/// Where a run's agents send their [`Beat`]s, every second: what they measured and that they
/// are alive.
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
    /// Its edge takeovers per transport over the measured windows (V2, base64), as its beats
    /// carried them.
    #[serde(default)]
    pub takeover: BTreeMap<String, String>,
}

/// One second of an agent's run, sent as it ends: the coordinator merges these for an agent
/// that never sends its result (killed, cut off), so its data up to its death is kept.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Beat {
    pub agent: String,
    /// Time since the plan's common start, ms, when the beat was sent.
    pub at_ms: u64,
    /// The phase's transport; `None` before the first phase.
    pub transport: Option<String>,
    /// Whether the second belongs to a measured window (only those count in the results).
    pub measured: bool,
    /// The second's latencies (V2, base64), when measured.
    pub latency: String,
    /// Takeovers finished in the second (V2, base64), when measured and any.
    pub takeover: String,
    pub delivered: u64,
    pub requests: u64,
    pub bytes: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub gap_notices: u64,
    pub reconnects: u64,
    pub errors: BTreeMap<String, u64>,
    pub clients_connected: u64,
    pub clients_target: u64,
    /// The agent process: CPU seconds since it started, resident memory.
    pub cpu_s: f64,
    pub rss_bytes: u64,
}

/// A histogram as V2 bytes in base64 (what an hlog line carries, uncompressed).
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    match V2Serializer::new().serialize(h, &mut buf) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(buf),
        Err(_) => String::new(),
    }
}

/// The inverse of [`encode_histogram`]; `None` for an empty or unreadable text.
pub fn decode_histogram(text: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    Deserializer::new().deserialize(&mut bytes.as_slice()).ok()
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
