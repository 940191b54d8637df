//! The schema of `summary.json`, the one file every consumer of a run reads: `tickbench show`,
//! `tickbench compare`, the sweep reports and the TUI's results viewer.
//!
//! Longer than the ~500 lines a file here aims at: the schema is one document (the JSON Schema
//! in docs/ is generated from these types), and splitting it would scatter one file's fields.
//!
//! Only measured quantities are stored; ratios (requests per delivered tick, bytes per tick, CPU per
//! tick, …) are methods, so there is one definition of each and a stored file cannot disagree with
//! itself.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning or disappears; `compare` refuses to compare different ones.
pub const SCHEMA_VERSION: u32 = 1;

/// One run: every transport phase measured against one server.
///
/// The JSON Schema of this file, generated from these types, is `docs/summary.schema.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "tickbench summary.json")]
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
    /// The fan-out floor measured in the same run: a phase of the first push transport's clients
    /// (same count, tick rate, watchlists and parser) against a minimal writer (one thread per
    /// core, one `write` per delivery, no runtime); its `server_cpu_s` is the writer's CPU.
    /// Absent in files written before it was measured, and in runs without a push transport or
    /// with `--no-fanout-floor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanout_floor: Option<Box<TransportSummary>>,
    /// The browser phase (`tickbench browser`, `tickbench run --browser`): each technique in a
    /// real page in headless Chromium. Absent when no browser ran. Boxed: a `Summary` is moved
    /// around by value and most have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<Box<BrowserSection>>,
    /// Unit of the `Value` column of the `<transport>.hgrm` files beside this file. Absent in
    /// files written before it was recorded, whose `.hgrm` files hold microseconds.
    #[serde(default)]
    pub hgrm_unit: HgrmUnit,
    /// The machine the run measured on. Absent in files written before it was recorded.
    /// (Boxed: a `Summary` travels by value in enums that clippy wants small.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Box<Host>>,
}

impl Summary {
    /// `t`'s latency and server CPU per delivery as multiples of this run's fan-out floor, when
    /// the run measured one and `t` delivered anything.
    pub fn floor_multiples(&self, t: &TransportSummary) -> Option<FloorMultiples> {
        FloorMultiples::of(t, self.fanout_floor.as_ref()?)
    }
}

/// A push transport's figures divided by the fan-out floor's (1.0 = as cheap and as fast as the
/// minimal writer; 0 where the floor's figure is 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, JsonSchema)]
pub struct FloorMultiples {
    pub latency_p50: f64,
    pub latency_p99: f64,
    /// Server CPU per delivered tick over the floor writer's.
    pub cpu_per_delivery: f64,
}

impl FloorMultiples {
    /// `t` over `floor`; `None` when either delivered nothing, and for the transports whose
    /// latency is set by the client's own schedule (poll, jsonp, piggyback): a multiple of a push
    /// floor would only restate the poll interval.
    pub fn of(t: &TransportSummary, floor: &TransportSummary) -> Option<FloorMultiples> {
        if t.delivered == 0 || floor.delivered == 0 {
            return None;
        }
        if t.name
            .parse::<crate::Transport>()
            .is_ok_and(crate::Transport::schedule_bound)
        {
            return None;
        }
        Some(FloorMultiples {
            latency_p50: ratio(t.latency_us.p50 as f64, floor.latency_us.p50 as f64),
            latency_p99: ratio(t.latency_us.p99 as f64, floor.latency_us.p99 as f64),
            cpu_per_delivery: ratio(t.server_cpu_us_per_tick(), floor.server_cpu_us_per_tick()),
        })
    }
}

/// What headless Chromium measured: one page per technique, and the compare view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, JsonSchema)]
pub struct BrowserSection {
    /// The browser's own version string (`Chrome/156.0…`).
    pub browser: String,
    /// The page URL the techniques were opened at (without the query).
    pub url: String,
    /// Symbols each page watched.
    pub symbols: u64,
    /// One row per technique, in the order opened.
    pub techniques: Vec<BrowserTechnique>,
    /// The compare view (every technique at once in one page), when it was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<BrowserCompare>,
}

/// One technique's page, read from `window.tickbench.stats()` at the end of its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, JsonSchema)]
pub struct BrowserTechnique {
    /// Technique name (`poll`, `stream-xhr`, `ws`, …).
    pub name: String,
    /// HTTP version the page was loaded over, as the browser reports it (`http/1.1`, `h2`).
    #[serde(default)]
    pub protocol: String,
    /// Length of the measured window, seconds.
    pub duration_s: f64,
    /// Ticks the page received (after its sequence checks) inside the window.
    pub delivered: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub gap_notices: u64,
    pub reconnects: u64,
    /// Requests the page made (stream (re)connects, script tags and frames count as requests).
    pub requests: u64,
    /// Response bytes the page received (estimated from the framing where the browser API hides
    /// them: EventSource, the forever iframe).
    pub bytes: u64,
    /// Browser clock at parse time − the tick's scheduled `ts`, µs, from the page's log-bucket
    /// histogram (about 3% resolution).
    pub latency_us: LatencySummary,
    /// Errors the page saw (failed requests, parse errors, CSP violations).
    #[serde(default)]
    pub errors: u64,
    /// The page's screenshot, relative to the results folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
}

impl BrowserTechnique {
    /// Ticks lost without notice or mangled: must be 0.
    pub fn loss(&self) -> u64 {
        self.gaps + self.duplicates + self.out_of_order
    }
}

/// The compare view: every technique in one page, sharing the browser's connections to one
/// origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, JsonSchema)]
pub struct BrowserCompare {
    /// HTTP version of the page (`http/1.1`: 6 connections per origin; `h2`: one multiplexed).
    pub protocol: String,
    /// How long the view was open, seconds.
    pub duration_s: f64,
    /// Techniques that received nothing while the view was open, waiting for a connection.
    pub stalled: Vec<String>,
    /// Ticks each technique received, by name.
    pub delivered: BTreeMap<String, u64>,
    /// The page's screenshot, relative to the results folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
}

/// Unit of the `Value` column (and the footer) of a `.hgrm` percentile file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HgrmUnit {
    /// Microseconds, as recorded (files written before the unit was recorded).
    #[default]
    Us,
    /// Milliseconds: HdrHistogram's output value unit scaling ratio 1000, as wrk2 writes them and
    /// HdrHistogram's plotters expect.
    Ms,
}

impl HgrmUnit {
    /// Microseconds per unit of the file's values.
    pub fn micros(self) -> f64 {
        match self {
            HgrmUnit::Us => 1.0,
            HgrmUnit::Ms => 1000.0,
        }
    }
}

/// The machine a run measured on, so two runs from different machines are not compared blind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Host {
    /// Logical CPUs the load generator could use (its affinity mask).
    pub cores: u32,
    /// The CPU's `model name` in `/proc/cpuinfo` (empty if it has none).
    pub cpu_model: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// Where the `*_cpu_s` figures come from: `process-clock` (the kernel's per-process CPU-time
    /// clock, nanoseconds, the counter `/proc/<pid>/schedstat` shows) or `stat-ticks`
    /// (`/proc/<pid>/stat`, 10 ms ticks).
    pub cpu_time_source: String,
}

/// Loopback one-way floor, µs (half of a 64-byte TCP_NODELAY round trip).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, JsonSchema)]
pub struct Floor {
    /// Median, µs.
    pub p50: f64,
    /// 99th percentile, µs.
    pub p99: f64,
}

/// Latency distribution summary in µs, from the merged HdrHistogram of a phase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, JsonSchema)]
pub struct LatencySummary {
    /// Smallest latency, µs.
    pub min: u64,
    /// Median, µs.
    pub p50: u64,
    /// 90th percentile, µs.
    pub p90: u64,
    /// 99th percentile, µs.
    pub p99: u64,
    /// 99.9th percentile, µs.
    pub p999: u64,
    /// Largest latency, µs.
    pub max: u64,
    /// Mean, µs.
    pub mean: f64,
}

/// The measured window of one transport phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Server process CPU seconds (user + system) over the window; see [`Host::cpu_time_source`].
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
    /// This phase's latency and server CPU per delivery as multiples of the run's fan-out floor
    /// (a copy of [`Summary::floor_multiples`] written when the run ends, for readers of the
    /// JSON; absent before the floor was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_multiples: Option<FloorMultiples>,
    /// CPU time the hypervisor gave other guests during the phase's measured window, percent of
    /// the machine's CPU time (`steal` in `/proc/stat`); absent where it was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_pct: Option<f64>,
    /// A polling phase's yardstick: the same connections and schedule doing nothing but send a
    /// request and read its body with the same HTTP client, measured in the same run right after
    /// the phase (`tickbench run` does it after the `poll` phase). Absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bare_http: Option<BareHttp>,
    /// Edge failover (`--failover`): the clients that moved to another edge when theirs was
    /// gone, and how long each move took. Absent when no client moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub takeover: Option<Takeover>,
    /// How the phase's clients reached the server: HTTP version, TLS, clients per connection.
    /// Absent in files written before it was recorded, which were all HTTP/1.1 in plaintext,
    /// one client per connection (what [`Link::default`] says).
    #[serde(flatten)]
    pub link: Link,
    /// Anything else a phase measured (fault-injection counts, slow-client figures, …), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
}

/// Edge takeovers of a phase (`run --failover`): a client's edge was gone (refused, reset, or
/// its stream ended without `bye`, twice in a row) and it resumed by its cursor on another edge.
/// Times run from the moment the connection was lost to the new edge's answer (resumed by cursor),
/// from the merged histogram of every takeover in the measured window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, JsonSchema)]
pub struct Takeover {
    /// Clients that moved to another edge.
    pub count: u64,
    /// Median takeover time, ms.
    pub ms_p50: f64,
    /// 99th percentile takeover time, ms.
    pub ms_p99: f64,
    /// Longest takeover, ms.
    pub ms_max: f64,
}

/// The protocol settings of a phase: runs that differ here measure different things, so
/// `compare` refuses to gate one against the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
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

    /// Load generator CPU per delivered tick, µs.
    pub fn loadgen_cpu_us_per_tick(&self) -> f64 {
        1e6 * ratio(self.loadgen_cpu_s, self.delivered as f64)
    }

    /// Requests per second of load-generator CPU over the window (0 without requests or CPU).
    pub fn requests_per_loadgen_cpu_s(&self) -> f64 {
        ratio(self.requests as f64, self.loadgen_cpu_s)
    }

    /// [`Self::requests_per_loadgen_cpu_s`] over the bare loop's, when it was measured: how close
    /// the polling clients come to what the HTTP client alone costs (1.0 = as cheap).
    pub fn bare_http_ratio(&self) -> Option<f64> {
        let bare = self.bare_http.as_ref()?.requests_per_cpu_s();
        (bare > 0.0).then(|| self.requests_per_loadgen_cpu_s() / bare)
    }

    /// The hypervisor took enough CPU from the machine during the window
    /// ([`HIGH_STEAL_PCT`]) that its tail latencies say more about the host than the server.
    pub fn high_steal(&self) -> bool {
        self.steal_pct.is_some_and(|s| s >= HIGH_STEAL_PCT)
    }
}

/// The bare HTTP loop measured beside a polling phase (see [`TransportSummary::bare_http`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BareHttp {
    /// Connections (one HTTP client each, as the phase's clients).
    pub connections: u64,
    /// Length of the measured window, seconds.
    pub duration_s: f64,
    /// Answers read in full inside the window.
    pub requests: u64,
    /// Failed requests inside the window.
    pub errors: u64,
    /// Load-generator process CPU over the window, seconds.
    pub loadgen_cpu_s: f64,
}

impl BareHttp {
    /// Requests per second of load-generator CPU.
    pub fn requests_per_cpu_s(&self) -> f64 {
        ratio(self.requests as f64, self.loadgen_cpu_s)
    }
}

/// Steal, percent of CPU time, from which a phase is flagged: on an idle 2-core guest a single
/// stall of tens of ms in a 4 s phase is already a few percent, and decides the phase's p99.
pub const HIGH_STEAL_PCT: f64 = 2.0;

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
