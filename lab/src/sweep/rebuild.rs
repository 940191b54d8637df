//! `tickbench sweep --rebuild`: an existing sweep folder's outputs recomputed from its sweep.json.

use std::path::Path;

use crate::error::Error;
use crate::record::{SweepRecord, SWEEP_KIND, SWEEP_SCHEMA};
use crate::report;

/// `--rebuild`: the report of an existing sweep folder, recomputed from its sweep.json.
pub fn rebuild(dir: &Path) -> Result<(), Error> {
    let path = dir.join("sweep.json");
    let text =
        std::fs::read_to_string(&path).map_err(Error::io(format!("reading {}", path.display())))?;
    let mut record: SweepRecord = serde_json::from_str(&text).map_err(|source| Error::Json {
        what: format!("{} is not a tickbench sweep.json", path.display()),
        source,
    })?;
    if record.kind != SWEEP_KIND || record.schema != SWEEP_SCHEMA {
        return Err(Error::NotASweep { path });
    }
    report::write_all(&mut record, dir)?;
    eprintln!("rewrote {}", dir.join("report.md").display());
    Ok(())
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::sweep::test_support::fake_sweep;

    #[test]
    fn rebuild_rewrites_the_report_from_sweep_json() {
        let tmp = tempfile::tempdir().unwrap();
        let o = fake_sweep(tmp.path(), None, None);
        std::fs::remove_file(o.dir.join("report.md")).unwrap();
        rebuild(&o.dir).unwrap();
        assert!(o.dir.join("report.md").is_file());
        assert!(rebuild(tmp.path()).is_err());
    }
}
