//! The plain-text view of the [`Table`], for `tickbench run --no-tui` and `tickbench show --plain`
//! (terminals and CI logs).

use super::Table;

impl Table {
    /// The table as aligned text: the Markdown view's lines with a plain rule under the header
    /// (no alignment marks), so `run --no-tui` and `show --plain` print the same rows as `report.md`.
    pub fn plain(&self) -> String {
        self.render(|_, w| "-".repeat(w))
    }
}
