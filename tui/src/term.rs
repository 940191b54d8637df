//! Terminal setup and teardown: the full-screen terminal as an RAII guard.
//!
//! The terminal must come back in a usable state whatever happens: a normal `q`, an error
//! bubbling out of the event loop, or a panic. `ratatui::try_init` installs a panic hook that
//! restores the terminal before the panic message is printed; [`TerminalGuard`] covers the other two
//! paths by restoring in `Drop`, so an early `?` return cannot leave the user in raw mode.

use ratatui::DefaultTerminal;

use crate::error::Error;
use crate::log::ScreenCapture;

/// Owns the full-screen terminal for the life of a screen; dropping it restores the terminal.
pub struct TerminalGuard {
    /// The ratatui terminal on stdout (alternate screen, raw mode).
    pub terminal: DefaultTerminal,
    /// Keeps log lines off the screen while it is up (see [`crate::log`]); dropped after the
    /// terminal is restored, so lines no screen showed are printed below the shell prompt.
    _capture: ScreenCapture,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, and installs ratatui's restoring panic hook.
    pub fn new() -> Result<Self, Error> {
        let capture = ScreenCapture::begin();
        let terminal = ratatui::try_init().map_err(Error::Terminal)?;
        Ok(Self {
            terminal,
            _capture: capture,
        })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
