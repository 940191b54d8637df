//! The one event loop every screen runs in: a frame interval, crossterm's async `EventStream` and
//! the screen's own live source inside a single `tokio::select!`.
//!
//! A screen is a [`Screen`]: it draws its state, handles a key, and optionally waits on something
//! of its own (the run finishing, a signal). Live screens (ticker, dashboard) drain their data
//! channels and redraw on every frame tick, so a burst of ticks costs one draw; the results viewer
//! has nothing live and redraws only after an event.

use std::future::Future;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEvent, KeyEventKind};
use futures_util::StreamExt;
use ratatui::{DefaultTerminal, Frame};

use crate::error::Error;

/// Frames per second of the live screens: smooth enough for a ticker, cheap enough to never compete
/// with the measurement for CPU.
pub const FPS: u64 = 15;

/// What a key asks the driver to do after `handle_key` updated the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond the state change; redraw.
    None,
    /// Leave the screen (for the dashboard: stop the run cleanly first).
    Quit,
    /// The ticker's transport or watchlist changed: restart its client from a fresh snapshot.
    Restart,
}

/// What the loop does after a screen handled an event.
#[derive(Debug)]
pub enum Flow<T> {
    /// Keep going.
    Continue,
    /// Leave the loop with this result.
    Exit(Result<T, Error>),
}

/// A screen as the event loop drives it: the state behind it plus its live source.
pub trait Screen {
    /// What the loop returns when the screen is left.
    type Output;
    /// What [`Screen::wake`] resolves to.
    type Wake;
    /// True when the screen has live data: drain and redraw on every frame tick. False: redraw
    /// only after an event.
    const LIVE: bool;

    /// Draws the current state.
    fn draw(&self, frame: &mut Frame);

    /// A frame tick of a live screen: move what arrived since the last one into the state.
    fn frame(&mut self) {}

    /// A key press.
    fn key(&mut self, key: KeyEvent) -> Flow<Self::Output>;

    /// Waits for the screen's own next event besides frames and keys. Dropped whenever another
    /// branch wins, so it must be cancel-safe; a screen without one never resolves.
    fn wake(&mut self) -> impl Future<Output = Self::Wake>;

    /// Handles what [`Screen::wake`] resolved to.
    fn woke(&mut self, wake: Self::Wake) -> Flow<Self::Output>;
}

/// Runs `screen` on `terminal` until it exits or the terminal fails.
pub async fn run<S: Screen>(
    terminal: &mut DefaultTerminal,
    screen: &mut S,
) -> Result<S::Output, Error> {
    let mut events = EventStream::new();
    let mut frames = tokio::time::interval(frame_period());
    frames.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        if !S::LIVE {
            terminal.draw(|f| screen.draw(f)).map_err(Error::Draw)?;
        }
        // Every branch's future is dropped before its handler runs, so the handlers may borrow
        // the screen again.
        let flow = tokio::select! {
            _ = frames.tick(), if S::LIVE => {
                screen.frame();
                terminal.draw(|f| screen.draw(f)).map_err(Error::Draw)?;
                Flow::Continue
            }
            w = screen.wake() => screen.woke(w),
            ev = next_event(&mut events) => match key_press(&ev?) {
                Some(k) => screen.key(k),
                None => Flow::Continue,
            },
        };
        if let Flow::Exit(r) = flow {
            return r;
        }
    }
}

/// The frame period.
pub fn frame_period() -> Duration {
    Duration::from_millis(1000 / FPS)
}

/// A key press (releases and repeats on terminals that report them are ignored).
pub fn key_press(ev: &TermEvent) -> Option<KeyEvent> {
    match ev {
        TermEvent::Key(k) if k.kind == KeyEventKind::Press => Some(*k),
        _ => None,
    }
}

/// Reads the next terminal event; a closed or broken input is an error, not a silent hang.
async fn next_event(events: &mut EventStream) -> Result<TermEvent, Error> {
    match events.next().await {
        Some(Ok(ev)) => Ok(ev),
        Some(Err(e)) => Err(Error::Input(e)),
        None => Err(Error::InputClosed),
    }
}
