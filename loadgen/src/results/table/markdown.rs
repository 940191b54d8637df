//! The Markdown view of the [`Table`], as `report.md` shows it.

use super::{Align, Table};

impl Table {
    /// A Markdown table, padded so it reads as well in a terminal as rendered; numeric columns
    /// are right-aligned (`--:`).
    pub fn markdown(&self) -> String {
        self.render(|c, w| {
            let dashes = "-".repeat(w);
            match c.align {
                Align::Left => dashes,
                Align::Right => format!("{}:", &dashes[1..]),
            }
        })
    }
}
