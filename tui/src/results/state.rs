//! What the results viewer shows: the loaded runs and the selected transport.

use crate::results::load::{transport_names, LoadedRun};
use crate::theme::Theme;

/// What the results viewer shows.
#[derive(Debug, Clone)]
pub struct ResultsState {
    /// One run, or two (A then B) for a comparison.
    pub runs: Vec<LoadedRun>,
    /// Index into [`ResultsState::names`] of the transport whose spectrum is drawn.
    pub selected: usize,
    /// The `?` overlay is open.
    pub help: bool,
    pub theme: Theme,
}

impl ResultsState {
    pub fn new(runs: Vec<LoadedRun>, theme: Theme) -> Self {
        Self {
            runs,
            selected: 0,
            help: false,
            theme,
        }
    }

    /// Transport names across the runs, in run order (A's first).
    pub fn names(&self) -> Vec<String> {
        transport_names(&self.runs)
    }
}
