//! Test doubles for the sweep: a fake cell runner, a tiny experiment.

use std::path::{Path, PathBuf};

use tickbench_loadgen::progress::Progress;
use tickbench_wire::Summary;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::run::{run_sweep, test_config, SweepOutcome};
use super::runner::{CellError, CellRunner};
use crate::experiment::{Cell, Experiment};
use crate::record::test_support::{phase, summary};

/// Writes a summary like the load generator would; cancels the token at cell `cancel_at`.
pub(crate) struct Fake {
    pub calls: usize,
    pub cancel_at: Option<usize>,
    pub fail_at: Option<usize>,
}

impl CellRunner for Fake {
    fn run(
        &mut self,
        _exp: &Experiment,
        cell: &Cell,
        out: &Path,
        _progress: mpsc::Sender<Progress>,
        cancel: CancellationToken,
    ) -> Result<(Summary, PathBuf), CellError> {
        let n = self.calls;
        self.calls += 1;
        if self.fail_at == Some(n) {
            return Err("server would not start".into());
        }
        let dir = out.join(format!("20260101T000000Z-{}", cell.id));
        std::fs::create_dir_all(&dir)?;
        let mut s = summary(vec![phase(cell.transport.name())]);
        if self.cancel_at == Some(n) {
            cancel.cancel();
            s.complete = false;
        }
        std::fs::write(dir.join("summary.json"), serde_json::to_string(&s)?)?;
        Ok((s, dir))
    }
}

pub(crate) fn exp() -> Experiment {
    Experiment::parse(
        "name = \"tiny\"\nclaim = \"c\"\ntransports = [\"sse\", \"poll\"]\nclients = [10, 20]\nduration = \"1s\"\n",
        "tiny.toml",
    )
    .unwrap()
}

/// Runs [`exp`] into `dir` with a [`Fake`] runner that cancels at cell `cancel_at` and fails at
/// cell `fail_at`: the setup every sweep test shares.
pub(crate) fn fake_sweep(
    dir: &Path,
    cancel_at: Option<usize>,
    fail_at: Option<usize>,
) -> SweepOutcome {
    let mut fake = Fake {
        calls: 0,
        cancel_at,
        fail_at,
    };
    run_sweep(
        &exp(),
        &test_config(dir),
        &mut fake,
        CancellationToken::new(),
    )
    .unwrap()
}
