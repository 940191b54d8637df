//! `sweep.json`: what a sweep ran and measured, cell by cell (the per-point medians computed from
//! it are in [`crate::points`]).

use serde::{Deserialize, Serialize};
use tickbench_wire::{Floor, Summary, TransportSummary};

use crate::experiment::{Cell, Experiment};
use crate::verdict::Verdict;

/// The `kind` field that tells a sweep.json from a summary.json.
pub const SWEEP_KIND: &str = "tickbench-sweep";
/// Bumped when a sweep.json field changes meaning; `compare` refuses other versions.
pub const SWEEP_SCHEMA: u32 = 1;

/// The whole of `sweep.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepRecord {
    /// Always [`SWEEP_KIND`].
    pub kind: String,
    /// [`SWEEP_SCHEMA`] of the writer.
    pub schema: u32,
    /// `summary.json` schema of the embedded cell summaries.
    pub summary_schema: u32,
    pub tickbench_version: String,
    /// The experiment as parsed (after `--quick`, if given).
    pub experiment: Experiment,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub finished_at: Option<String>,
    /// False when the sweep was interrupted or a cell failed: `cells` says which ran.
    pub complete: bool,
    /// The sweep stopped early on Ctrl-C.
    pub interrupted: bool,
    /// `--target` server, when the cells did not each start a fresh embedded server.
    pub target: Option<String>,
    /// Durations were shrunk by `--quick`.
    pub quick: bool,
    /// Number of cells in the matrix; `cells` holds those that were started.
    pub cells_planned: usize,
    pub cells: Vec<CellRecord>,
    /// The report's judgement of the claim, when the experiment names a check.
    pub verdict: Option<Verdict>,
}

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// Ran its full measured window.
    Done,
    /// Stopped by Ctrl-C; its summary (if any) is partial (`complete: false`).
    Interrupted,
    /// The run returned an error; `error` says which.
    Failed,
}

/// One cell: its parameters, its outcome, and its `summary.json` embedded whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellRecord {
    #[serde(flatten)]
    pub cell: Cell,
    pub status: CellStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cell's results folder, relative to the sweep folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Wall time the cell took, server start included.
    pub elapsed_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
}

impl CellRecord {
    /// The measured phase of this cell (a cell measures one transport).
    pub fn phase(&self) -> Option<&TransportSummary> {
        self.summary.as_ref().and_then(|s| {
            s.transports
                .iter()
                .find(|t| t.name == self.cell.transport.name())
                .or_else(|| s.transports.first())
        })
    }

    pub fn floor(&self) -> Option<Floor> {
        self.summary.as_ref().map(|s| s.floor_us)
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Builders for summaries with chosen figures, shared by the unit tests.
    use std::collections::BTreeMap;

    use super::*;
    use tickbench_wire::{LatencySummary, Transport, SCHEMA_VERSION};

    pub fn phase(name: &str) -> TransportSummary {
        TransportSummary {
            name: name.into(),
            clients: 100,
            clients_receiving: 100,
            duration_s: 10.0,
            delivered: 10_000,
            gaps: 0,
            duplicates: 0,
            out_of_order: 0,
            gap_notices: 0,
            latency_us: LatencySummary {
                min: 50,
                p50: 200,
                p90: 400,
                p99: 800,
                p999: 1500,
                max: 3000,
                mean: 250.0,
            },
            requests: 500,
            empty_responses: 100,
            bytes: 1_500_000,
            errors: BTreeMap::new(),
            reconnects: 0,
            first_tick_ms_p50: 5.0,
            server_cpu_s: 0.5,
            loadgen_cpu_s: 1.0,
            server_rss_bytes: 10 << 20,
            loadgen_rss_bytes: 20 << 20,
            saturated: false,
            saturation_reasons: vec![],
            schedule_lag_us_p99: 100,
            floor_multiples: None,
            steal_pct: None,
            bare_http: None,
            takeover: None,
            link: tickbench_wire::Link::default(),
            extra: BTreeMap::new(),
        }
    }

    pub fn summary(phases: Vec<TransportSummary>) -> Summary {
        Summary {
            schema: SCHEMA_VERSION,
            tickbench_version: "0.1.0".into(),
            label: "test".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            complete: true,
            config: serde_json::json!({}),
            floor_us: Floor {
                p50: 20.0,
                p99: 40.0,
            },
            floor_cross_us: None,
            fanout_floor: None,
            transports: phases,
            browser: None,
            hgrm_unit: Default::default(),
            host: None,
        }
    }

    /// A finished cell whose single phase is `p`.
    pub fn cell(index: usize, cell: Cell, p: TransportSummary) -> CellRecord {
        let _ = index;
        CellRecord {
            cell,
            status: CellStatus::Done,
            error: None,
            dir: None,
            elapsed_s: 1.0,
            summary: Some(summary(vec![p])),
        }
    }

    pub fn mk_cell(t: Transport) -> Cell {
        Cell {
            index: 0,
            id: t.name().into(),
            transport: t,
            clients: Some(100),
            rate: None,
            poll_interval: None,
            action_rate: None,
            link: None,
            target: None,
            repetition: 1,
            seed: 1,
        }
    }
}
