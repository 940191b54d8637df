//! The schema of `summary.json`, the one file every consumer of a run reads: `tickbench show`,
//! `tickbench compare`, the sweep reports and the TUI's results viewer.
//!
//! Only measured quantities are stored; ratios (requests per delivered tick, bytes per tick, CPU per
//! tick, …) are methods, so there is one definition of each and a stored file cannot disagree with
//! itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning or disappears; `compare` refuses to compare different ones.
pub const SCHEMA_VERSION: u32 = 1;

/// One run: every transport phase measured against one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema: u32,
    /// Version of the tickbench that wrote the file.
    pub tickbench_version: String,
    /// Free-form label of the run (the part of the results folder name after the timestamp).
    pub label: String,
    /// RFC 3339 UTC time the run started.
    pub started_at: String,
    /// False when the run was interrupted (Ctrl-C, SIGTERM, fatal error): the figures cover only
    /// what was measured before that and must not be read as a full run.
    pub complete: bool,
    /// The run's configuration as the load generator resolved it (flags and defaults).
    pub config: serde_json::Value,
    /// Half the loopback TCP round trip measured before the phases: the floor every latency in this
    /// file can be read against.
    pub floor_us: Floor,
    /// The same ping-pong between two OS threads with blocking sockets: each message wakes a
    /// thread that may sit on the other core. Every tick crosses at least such a hand-off
    /// (generator thread → server task → client process), so this is the floor a push latency can
    /// approach on this machine; `floor_us` is the kernel's loopback path alone. Absent in files
    /// written before it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_cross_us: Option<Floor>,
    /// One entry per transport phase, in run order.
    pub transports: Vec<TransportSummary>,
}

/// Loopback one-way floor, µs (half of a 64-byte TCP_NODELAY round trip).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Floor {
    pub p50: f64,
    pub p99: f64,
}

/// Latency distribution summary in µs, from the merged HdrHistogram of a phase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct LatencySummary {
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

/// The measured window of one transport phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransportSummary {
    /// Transport name (`poll`, `sse`, …).
    pub name: String,
    /// Simulated clients the phase asked for.
    pub clients: u64,
    /// Clients that had received at least one tick by the end of the measured window.
    #[serde(default)]
    pub clients_receiving: u64,
    /// Length of the measured window, seconds.
    pub duration_s: f64,
    /// Ticks delivered to clients (each client's copy counts once) inside the window.
    pub delivered: u64,
    /// Ticks a client never received although the server's `sseq` shows they existed.
    pub gaps: u64,
    /// Ticks a client received more than once.
    pub duplicates: u64,
    /// Ticks that arrived after a later tick of the same symbol.
    pub out_of_order: u64,
    /// Explicit gap notices from the server (cursor fell out of the journal): loss, but declared.
    pub gap_notices: u64,
    /// End-to-end latency (client parse time − tick's scheduled time), µs.
    pub latency_us: LatencySummary,
    /// HTTP requests the clients sent (stream (re)connects count as requests).
    pub requests: u64,
    /// Request answers that carried no tick.
    pub empty_responses: u64,
    /// Response bytes received (bodies, after chunk decoding).
    pub bytes: u64,
    /// Errors by kind (`connect`, `timeout`, `status_503`, `parse`, …).
    pub errors: BTreeMap<String, u64>,
    /// Connections re-established after a failure or a server close.
    pub reconnects: u64,
    /// Median time from a client's start to its first tick, ms.
    #[serde(default)]
    pub first_tick_ms_p50: f64,
    /// Server process CPU seconds (user + system) over the window.
    pub server_cpu_s: f64,
    /// Load generator process CPU seconds over the window.
    pub loadgen_cpu_s: f64,
    /// Server resident set size at the end of the window, bytes.
    pub server_rss_bytes: u64,
    /// Load generator resident set size at the end of the window, bytes.
    pub loadgen_rss_bytes: u64,
    /// True when the load generator itself was the bottleneck (CPU pinned or schedule behind):
    /// the latencies of this phase describe the instrument, not the server.
    pub saturated: bool,
    /// Why the phase was marked saturated (empty when it was not).
    #[serde(default)]
    pub saturation_reasons: Vec<String>,
    /// 99th percentile of how late the load generator fired its scheduled requests, µs.
    #[serde(default)]
    pub schedule_lag_us_p99: u64,
    /// How the phase's clients reached the server: HTTP version, TLS, clients per connection.
    /// Absent in files written before it was recorded, which were all HTTP/1.1 in plaintext,
    /// one client per connection (what [`Link::default`] says).
    #[serde(flatten)]
    pub link: Link,
    /// Anything else a phase measured (fault-injection counts, slow-client figures, …), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
}

/// The protocol settings of a phase: runs that differ here measure different things, so
/// `compare` refuses to gate one against the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// HTTP version the clients spoke.
    #[serde(default)]
    pub protocol: HttpVersion,
    /// Whether the clients spoke TLS (HTTPS).
    #[serde(default)]
    pub tls: bool,
    /// Simulated clients sharing one connection (HTTP/2 streams, as browser tabs of one origin).
    #[serde(default = "one")]
    pub tabs_per_conn: u32,
}

fn one() -> u32 {
    1
}

impl Default for Link {
    fn default() -> Self {
        Link {
            protocol: HttpVersion::H1,
            tls: false,
            tabs_per_conn: 1,
        }
    }
}

impl std::fmt::Display for Link {
    /// `h1`, `h2+tls`, `h2 ×100 tabs/conn`, …
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.protocol.name())?;
        if self.tls {
            f.write_str("+tls")?;
        }
        if self.tabs_per_conn > 1 {
            write!(f, " ×{} tabs/conn", self.tabs_per_conn)?;
        }
        Ok(())
    }
}

/// An HTTP version as a phase records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HttpVersion {
    /// HTTP/1.1.
    #[default]
    #[serde(rename = "h1")]
    H1,
    /// HTTP/2 (prior knowledge in plaintext, ALPN `h2` over TLS).
    #[serde(rename = "h2")]
    H2,
}

impl HttpVersion {
    pub const fn name(self) -> &'static str {
        match self {
            HttpVersion::H1 => "h1",
            HttpVersion::H2 => "h2",
        }
    }
}

impl TransportSummary {
    /// Ticks delivered per second over the window.
    pub fn deliveries_per_s(&self) -> f64 {
        ratio(self.delivered as f64, self.duration_s)
    }

    /// Requests sent per delivered tick (the polling overhead; ~0 for streams).
    pub fn requests_per_tick(&self) -> f64 {
        ratio(self.requests as f64, self.delivered as f64)
    }

    /// Share of request answers that carried no tick, percent.
    pub fn empty_pct(&self) -> f64 {
        100.0 * ratio(self.empty_responses as f64, self.requests as f64)
    }

    /// Response bytes per delivered tick.
    pub fn bytes_per_tick(&self) -> f64 {
        ratio(self.bytes as f64, self.delivered as f64)
    }

    /// Server CPU per delivered tick, µs.
    pub fn server_cpu_us_per_tick(&self) -> f64 {
        1e6 * ratio(self.server_cpu_s, self.delivered as f64)
    }

    /// Ticks lost without notice or mangled (gaps + duplicates + out-of-order): must be 0.
    pub fn loss(&self) -> u64 {
        self.gaps + self.duplicates + self.out_of_order
    }

    /// Total errors of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A phase as files written before [`Link`] existed have it.
    const OLD_PHASE: &str = r#"{"name":"sse","clients":10,"duration_s":1.0,"delivered":5,
        "gaps":0,"duplicates":0,"out_of_order":0,"gap_notices":0,
        "latency_us":{"min":1,"p50":2,"p90":3,"p99":4,"p999":5,"max":6,"mean":2.5},
        "requests":10,"empty_responses":0,"bytes":100,"errors":{},"reconnects":0,
        "server_cpu_s":0.1,"loadgen_cpu_s":0.1,"server_rss_bytes":1,"loadgen_rss_bytes":1,
        "saturated":false}"#;

    #[test]
    fn old_phases_read_as_h1_plaintext_one_tab() {
        let t: TransportSummary = serde_json::from_str(OLD_PHASE).unwrap();
        assert_eq!(t.link, Link::default());
        assert_eq!(t.link.to_string(), "h1");
    }

    #[test]
    fn link_round_trips_flat() {
        let mut t: TransportSummary = serde_json::from_str(OLD_PHASE).unwrap();
        t.link = Link {
            protocol: HttpVersion::H2,
            tls: true,
            tabs_per_conn: 100,
        };
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["protocol"], "h2");
        assert_eq!(v["tls"], true);
        assert_eq!(v["tabs_per_conn"], 100);
        let back: TransportSummary = serde_json::from_value(v).unwrap();
        assert_eq!(back, t);
        assert_eq!(t.link.to_string(), "h2+tls ×100 tabs/conn");
    }
}
