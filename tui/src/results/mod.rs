//! `tickbench show`: a saved run (`summary.json` plus its `.hgrm` percentile files) as the
//! comparison table and a percentile-spectrum chart per transport; two runs side by side as a
//! delta table with both curves overlaid. Without a terminal on stdout it prints the tables as
//! text (CI logs).
//!
//! [`load`] and [`curves`] read a run, [`state`] is what is shown, [`keys`] changes it, [`view`]
//! draws it, [`delta`] compares two runs and [`text`] is the plain rendering. This file picks the
//! rendering and connects the screen to the event loop.

pub mod curves;
pub mod delta;
pub mod keys;
pub mod load;
pub mod state;
pub mod text;
pub mod view;

use std::io::IsTerminal;
use std::path::PathBuf;

use crossterm::event::KeyEvent;
use ratatui::Frame;

use crate::app::{Action, Flow, Screen};
use crate::error::Error;
use crate::opts::{ShowFormat, ShowOpts};
use crate::theme::Theme;
use load::LoadedRun;
use state::ResultsState;

/// Saved-results viewer: interactive on a terminal, text otherwise.
pub fn run(opts: ShowOpts) -> Result<(), Error> {
    let paths = if opts.runs.is_empty() {
        vec![PathBuf::from("results/latest")]
    } else {
        opts.runs
    };
    if paths.len() > 2 {
        return Err(Error::TooManyRuns(paths.len()));
    }
    let runs = paths
        .iter()
        .map(|p| LoadedRun::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let format = match opts.format {
        Some(f) => Some(f),
        None if opts.plain
            || !std::io::stdout().is_terminal()
            || !std::io::stdin().is_terminal() =>
        {
            Some(ShowFormat::Text)
        }
        None => None,
    };
    if let Some(format) = format {
        use std::io::Write;
        let body = match format {
            ShowFormat::Text => text::text_report(&runs),
            ShowFormat::Json => text::json_report(&runs),
            ShowFormat::Csv => text::csv_report(&runs),
        };
        let mut out = std::io::stdout().lock();
        out.write_all(body.as_bytes()).map_err(Error::Write)?;
        return Ok(());
    }
    let mut screen = Viewer(ResultsState::new(runs, Theme::from_env()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let mut guard = crate::term::TerminalGuard::new()?;
    rt.block_on(crate::app::run(&mut guard.terminal, &mut screen))
}

/// The results viewer in the event loop: nothing live, so it redraws only after an event.
struct Viewer(ResultsState);

impl Screen for Viewer {
    type Output = ();
    type Wake = std::convert::Infallible;
    const LIVE: bool = false;

    fn draw(&self, frame: &mut Frame) {
        view::render(&self.0, frame);
    }

    fn key(&mut self, key: KeyEvent) -> Flow<()> {
        match keys::handle_key(&mut self.0, key) {
            Action::Quit => Flow::Exit(Ok(())),
            Action::None | Action::Restart => Flow::Continue,
        }
    }

    async fn wake(&mut self) -> Self::Wake {
        std::future::pending().await
    }

    fn woke(&mut self, wake: Self::Wake) -> Flow<()> {
        match wake {}
    }
}
