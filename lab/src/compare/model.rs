//! The result of a comparison: rows with their verdicts, summed up in the gate's verdict.

/// The key of rows about the whole run rather than one phase.
pub const RUN_KEY: &str = "(run)";

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowVerdict {
    /// Within the limit.
    Ok,
    /// Improved beyond the tolerance (worth a new baseline).
    Better,
    Regression,
    /// Reported loudly; fails only with `--strict`.
    Warning,
    /// Shown for context, not gated.
    Info,
}

/// One line of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Transport name or cell id ([`RUN_KEY`] for run-wide rows).
    pub key: String,
    pub metric: String,
    pub unit: &'static str,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// `+12.0 %`, `+3.1 pts`, or a note for warnings.
    pub delta: String,
    /// The bound the current value had to meet.
    pub limit: String,
    pub verdict: RowVerdict,
    /// Smaller is better and the value belongs on a dashboard (JSON output).
    pub chartable: bool,
}

/// The whole comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub baseline: String,
    pub current: String,
    pub rows: Vec<Row>,
    pub strict: bool,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == RowVerdict::Regression)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == RowVerdict::Warning)
            .count()
    }

    /// 0 nothing regressed, 1 regression (or a warning under `--strict`).
    pub fn exit_code(&self) -> u8 {
        if self.regressions() > 0 || (self.strict && self.warnings() > 0) {
            1
        } else {
            0
        }
    }
}

/// What the gate decided, as a script reads it (`--format gate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateVerdict {
    /// Exit 0: nothing regressed (warnings allowed unless `--strict`).
    Pass,
    /// Exit 1: a regression, or a warning under `--strict`.
    Regression,
    /// Exit 2: the inputs could not be compared.
    BadInput,
}

impl GateVerdict {
    /// `pass`, `regression`, `bad-input`.
    pub fn as_str(self) -> &'static str {
        match self {
            GateVerdict::Pass => "pass",
            GateVerdict::Regression => "regression",
            GateVerdict::BadInput => "bad-input",
        }
    }

    /// The process exit code `compare` returns.
    pub fn exit_code(self) -> u8 {
        match self {
            GateVerdict::Pass => 0,
            GateVerdict::Regression => 1,
            GateVerdict::BadInput => 2,
        }
    }
}

impl Comparison {
    /// Pass or regression (bad input never gets as far as a comparison).
    pub fn verdict(&self) -> GateVerdict {
        if self.exit_code() == 0 {
            GateVerdict::Pass
        } else {
            GateVerdict::Regression
        }
    }

    /// The phases (transport names for a summary.json, cell ids for a sweep.json) with a row that
    /// fails the gate: a regression, or a warning under `--strict`. In table order, each once:
    /// what CI re-runs to see whether a regression reproduces.
    pub fn regressed(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rows {
            let fails = match r.verdict {
                RowVerdict::Regression => true,
                RowVerdict::Warning => self.strict,
                RowVerdict::Ok | RowVerdict::Better | RowVerdict::Info => false,
            };
            if fails && r.key != RUN_KEY && !out.contains(&r.key.as_str()) {
                out.push(&r.key);
            }
        }
        out
    }
}
