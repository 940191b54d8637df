//! The live run dashboard of `tickbench run` on a terminal.
//!
//! The run executes on its own thread ([`feed`]); the screen drains its progress every frame into
//! [`state`], [`keys`] change what is shown, [`view`] draws it. Stopping (`q` / Ctrl-C / SIGTERM)
//! cancels the run and keeps drawing until the run has written its (incomplete) results and
//! returned.
//!
//! This file starts the run and the terminal and connects the pieces to the event loop.

pub mod feed;
pub mod keys;
pub mod state;
pub mod view;

use std::path::PathBuf;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use tickbench_loadgen::results::{self, table::Table};
use tickbench_wire::Summary;

use crate::app::{Action, Flow, Screen};
use crate::error::{chain, Error};
use crate::theme::Theme;
use feed::{RunFeed, RunResult};
use state::DashState;

/// `tickbench run` with the dashboard: the run on its own thread, the screen here.
pub fn run(opts: tickbench_loadgen::RunOpts) -> Result<(), Error> {
    let feed = RunFeed::start(opts)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let mut screen = Dashboard {
        state: DashState::new(Theme::from_env()),
        feed,
        outcome: None,
    };
    let mut guard = crate::term::TerminalGuard::new()?;
    let result = rt.block_on(crate::app::run(&mut guard.terminal, &mut screen));
    drop(guard);
    screen.feed.stop();
    let (_, dir) = result?;
    // The table, warnings and floor as the plain mode (`run --no-tui`) prints them, so a dashboard
    // run leaves the same rows in the scrollback: what was written, read back as `show` reads it.
    // (The plain mode's fault-injection and slow-consumer tables are in report.md.)
    let summary = results::read(&dir)?;
    println!("{}", Table::from_summary(&summary).plain());
    for w in results::warnings(&summary) {
        println!("{w}");
    }
    println!("{}", results::report::floor_line(&summary));
    if summary.complete {
        println!("results: {}", dir.display());
    } else {
        println!("interrupted: partial results in {}", dir.display());
    }
    Ok(())
}

/// The dashboard in the event loop.
struct Dashboard {
    state: DashState,
    feed: RunFeed,
    /// The run's result, kept while the user is still looking at the finished screen.
    outcome: Option<RunResult>,
}

/// What the run does between frames.
// One `Done` per run, moved once: boxing the summary would buy nothing.
#[allow(clippy::large_enum_variant)]
enum RunEvent {
    /// It returned (boxed: a `Summary` is large, the other variant empty).
    Done(Box<RunResult>),
    /// A signal cancelled it.
    Signalled,
}

impl Dashboard {
    fn drain(&mut self) {
        while let Ok(p) = self.feed.progress.try_recv() {
            self.state.apply(p);
        }
    }
}

impl Screen for Dashboard {
    type Output = (Summary, PathBuf);
    type Wake = RunEvent;
    const LIVE: bool = true;

    fn draw(&self, frame: &mut Frame) {
        view::render(&self.state, frame);
    }

    fn frame(&mut self) {
        self.drain();
    }

    fn key(&mut self, key: KeyEvent) -> Flow<Self::Output> {
        if keys::handle_key(&mut self.state, key) == Action::Quit {
            if let Some(r) = self.outcome.take() {
                return Flow::Exit(r);
            }
            self.state.stopping = true;
            self.feed.cancel.cancel();
        }
        Flow::Continue
    }

    async fn wake(&mut self) -> RunEvent {
        tokio::select! {
            r = &mut self.feed.done, if self.outcome.is_none() => RunEvent::Done(
                Box::new(r.unwrap_or(Err(Error::RunPanicked))),
            ),
            _ = self.feed.cancel.cancelled(), if !self.state.stopping => RunEvent::Signalled,
            else => std::future::pending().await,
        }
    }

    fn woke(&mut self, ev: RunEvent) -> Flow<Self::Output> {
        match ev {
            RunEvent::Done(r) => {
                let r = *r;
                self.drain();
                match &r {
                    Ok((summary, dir)) => {
                        if self.state.finished.is_none() {
                            self.state.finish(summary, dir.clone());
                        }
                    }
                    Err(e) => {
                        // Failed before it started (bad flags, unreachable target): nothing to
                        // look at, so the error goes straight to the shell.
                        if self.state.target.is_none() {
                            return Flow::Exit(r);
                        }
                        self.state.error = Some(chain(e));
                    }
                }
                if self.state.stopping {
                    return Flow::Exit(r);
                }
                self.outcome = Some(r);
            }
            RunEvent::Signalled => {
                // A signal stopped the run: leave as soon as its results are written.
                self.state.stopping = true;
                if let Some(r) = self.outcome.take() {
                    return Flow::Exit(r);
                }
            }
        }
        Flow::Continue
    }
}
