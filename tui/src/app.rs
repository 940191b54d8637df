//! The event loop pieces every screen shares: one `Event` per thing that can happen (a key, a
//! resize, a frame tick), crossterm's async `EventStream` read inside `tokio::select!` next to the
//! frame interval and each screen's data channels.

use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEvent, KeyEventKind};
use futures_util::StreamExt;
use ratatui::{DefaultTerminal, Frame};

use crate::Action;

/// Frames per second of the live screens: smooth enough for a ticker, cheap enough to never compete
/// with the measurement for CPU.
pub const FPS: u64 = 15;

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
pub async fn next_event(events: &mut EventStream) -> anyhow::Result<TermEvent> {
    match events.next().await {
        Some(Ok(ev)) => Ok(ev),
        Some(Err(e)) => Err(anyhow::anyhow!("terminal input failed: {e}")),
        None => Err(anyhow::anyhow!("terminal input closed")),
    }
}

/// Loop for a screen with no live data (the results viewer): redraw after every event.
pub async fn static_loop<S>(
    terminal: &mut DefaultTerminal,
    state: &mut S,
    render: fn(&S, &mut Frame),
    handle_key: fn(&mut S, KeyEvent) -> Action,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    loop {
        terminal.draw(|f| render(state, f))?;
        let ev = next_event(&mut events).await?;
        if let Some(k) = key_press(&ev) {
            if handle_key(state, k) == Action::Quit {
                return Ok(());
            }
        }
    }
}
