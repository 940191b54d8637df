//! The colour theme every screen draws with, and its monochrome form for `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};
use tickbench_wire::Transport;

/// Styles used by every screen. With `NO_COLOR` set (to anything non-empty, per no-color.org) the
/// theme keeps only modifiers (bold, reversed, …), so every signal stays visible without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// False when `NO_COLOR` asked for a monochrome screen.
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Self { color: true }
    }
}

impl Theme {
    /// The theme the environment asks for.
    pub fn from_env() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { color: !no_color }
    }

    /// A monochrome theme (what `NO_COLOR` gives).
    pub fn mono() -> Self {
        Self { color: false }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// Headings, column titles.
    pub fn header(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Secondary text: units, hints, the floor.
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// The selected row / tab.
    pub fn selected(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Cyan)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// Healthy state (live connection, zero loss).
    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Something the user must notice (errors, loss, stale data).
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Warnings (reconnecting, stale for a short while).
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// The loud SATURATED marker: reversed so it stands out even without colour.
    pub fn alarm(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// A price that went up: flashes green (reversed without colour).
    pub fn flash_up(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Green)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// A price that went down: flashes red (underlined-reversed without colour).
    pub fn flash_down(&self) -> Style {
        if self.color {
            Style::new().fg(Color::White).bg(Color::Red)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
        }
    }

    /// Positive change.
    pub fn up(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Negative change.
    pub fn down(&self) -> Style {
        self.fg(Color::Red)
    }

    /// A transport's colour in charts: [`Transport::colour`], the one colour `wire` gives it for
    /// every picture, so a reader learns it once.
    pub fn transport(&self, t: Transport) -> Style {
        let (r, g, b) = t.colour();
        self.fg(Color::Rgb(r, g, b))
    }

    /// Series colours for charts, cycled by index: for lines that are not transports (p50 and
    /// p99, run A and run B).
    pub fn series(&self, i: usize) -> Style {
        const C: [Color; 6] = [
            Color::Cyan,
            Color::Yellow,
            Color::Magenta,
            Color::Green,
            Color::Blue,
            Color::Red,
        ];
        self.fg(C[i % C.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_theme_has_no_colours() {
        let t = Theme::mono();
        for s in [
            t.header(),
            t.dim(),
            t.selected(),
            t.good(),
            t.bad(),
            t.warn(),
            t.alarm(),
            t.flash_up(),
            t.flash_down(),
            t.up(),
            t.down(),
            t.series(3),
            t.transport(Transport::Sse),
        ] {
            assert_eq!((s.fg, s.bg), (None, None), "{s:?}");
        }
        // The signals that matter stay visible without colour.
        assert!(t.alarm().add_modifier.contains(Modifier::REVERSED));
        assert_ne!(t.flash_up(), t.flash_down());
        assert!(Theme::default().bad().fg.is_some());
        assert_eq!(
            Theme::default().transport(Transport::Poll).fg,
            Some(Color::Rgb(31, 119, 180))
        );
    }
}
