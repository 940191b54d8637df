//! The command line of `tickbench compare`.

use std::path::PathBuf;

/// `tickbench compare` options.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareOpts {
    /// Baseline: summary.json, sweep.json, or a results folder containing one.
    pub baseline: PathBuf,
    /// Current run: summary.json, sweep.json, or a results folder containing one.
    pub current: PathBuf,
    /// Tolerances file (TOML): top-level keys are defaults, `[transport.<name>]` tables override
    /// them for one transport or sweep cell. Flags override the file.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
    /// Output: a Markdown table (`md`), the whole comparison with its verdict as JSON (`json`),
    /// github-action-benchmark "customSmallerIsBetter" JSON (`benchmark`), or the verdict for
    /// shell scripts (`gate`: `key=value` lines, see [`super::render`]).
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Also gate absolute latency (p50, p99) and server CPU per tick. Only meaningful when both
    /// runs come from the same machine.
    #[arg(long)]
    pub absolute: bool,
    /// Fail (exit 1) on warnings too: saturated phases, incomplete runs, errors, missing phases.
    #[arg(long)]
    pub strict: bool,
    /// Allowed relative rise of requests per delivered tick (0.15 = +15 %).
    #[arg(long, value_name = "FRACTION")]
    pub tol_requests_per_tick: Option<f64>,
    /// Allowed rise of the empty-response share, percentage points.
    #[arg(long, value_name = "POINTS")]
    pub tol_empty_pct: Option<f64>,
    /// Allowed relative rise of bytes per delivered tick.
    #[arg(long, value_name = "FRACTION")]
    pub tol_bytes_per_tick: Option<f64>,
    /// Allowed relative rise of floor-relative latency (2.0 = +200 %, i.e. up to 3×).
    #[arg(long, value_name = "FRACTION")]
    pub tol_latency: Option<f64>,
    /// Allowed relative rise of floor-relative p99 latency (default 4.0 = +400 %, i.e. up to 5×):
    /// a tail from a few seconds of samples moves far more between runs than a median does.
    #[arg(long, value_name = "FRACTION")]
    pub tol_latency_p99: Option<f64>,
    /// Allowed relative rise of a push transport's p50 as a multiple of the same run's fan-out
    /// floor p50 (default 0.35 = +35 %). Both figures come from one run, the same clients and
    /// rate, so the multiple is far steadier than the loopback-floor ratio and can be tight.
    #[arg(long, value_name = "FRACTION")]
    pub tol_fanout: Option<f64>,
    /// Allowed relative rise of poll/jsonp/piggyback latency (set by the schedule, not the machine).
    #[arg(long, value_name = "FRACTION")]
    pub tol_schedule_latency: Option<f64>,
    /// Allowed relative rise of absolute latency and CPU per tick under `--absolute`.
    #[arg(long, value_name = "FRACTION")]
    pub tol_absolute: Option<f64>,
    /// Ticks that may be lost (gaps + duplicates + out-of-order) in the current run.
    #[arg(long, value_name = "N")]
    pub max_loss: Option<u64>,
}

/// Output format of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The table a person reads (and CI logs show).
    Md,
    /// The comparison as a JSON object: `verdict`, `regressed` phases, counts and every row.
    Json,
    /// github-action-benchmark's "customSmallerIsBetter" array, for a dashboard.
    Benchmark,
    /// `verdict=`, `regressed=`, `regressions=`, `warnings=`: what a script decides on.
    Gate,
}

/// Options as the command line gives them with no flags (baseline `a`, current `b`).
#[cfg(test)]
pub(crate) fn test_opts() -> CompareOpts {
    CompareOpts {
        baseline: "a".into(),
        current: "b".into(),
        thresholds: None,
        format: Format::Md,
        absolute: false,
        strict: false,
        tol_requests_per_tick: None,
        tol_empty_pct: None,
        tol_bytes_per_tick: None,
        tol_latency: None,
        tol_latency_p99: None,
        tol_fanout: None,
        tol_schedule_latency: None,
        tol_absolute: None,
        max_loss: None,
    }
}
