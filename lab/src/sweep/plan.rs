//! `tickbench sweep --dry-run`: the cells with the expected time; nothing runs.

use crate::experiment::{Cell, Experiment};
use crate::units::{fmt_dur, fmt_eta};

/// The `--dry-run` listing.
pub fn plan(exp: &Experiment, cells: &[Cell]) -> String {
    let mut s = format!(
        "experiment {}: {} cells × (ramp {} + warm-up {} + measured {}) ≈ {} plus server start-up\n",
        exp.name,
        cells.len(),
        fmt_dur(exp.ramp.0),
        fmt_dur(exp.warmup.0),
        fmt_dur(exp.duration.0),
        fmt_eta(exp.cell_time() * cells.len() as u32)
    );
    for c in cells {
        s.push_str(&format!(
            "  {:>3}  {:<28} {}\n",
            c.index + 1,
            c.id,
            c.describe()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sweep::test_support::exp;

    #[test]
    fn plan_lists_cells() {
        let e = exp();
        let p = plan(&e, &e.cells());
        assert!(p.contains("4 cells"));
        assert!(p.contains("poll-c20"));
        assert_eq!(fmt_eta(Duration::from_secs(250)), "4m 10s");
    }
}
