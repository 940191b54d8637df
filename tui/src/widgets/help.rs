//! The `?` help overlay every screen opens: a bordered box of `(key, what)` lines centred over the
//! screen.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::theme::Theme;

/// A centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

/// The `?` overlay: a bordered box listing `(key, what)` pairs over the screen.
pub fn render_help(frame: &mut Frame, theme: &Theme, title: &str, keys: &[(&str, &str)]) {
    let kw = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:kw$}  "), theme.header()),
                Span::raw(*what),
            ])
        })
        .collect();
    let width = keys
        .iter()
        .map(|(_, w)| w.chars().count() + kw + 5)
        .max()
        .unwrap_or(20)
        .max(title.len() + 4) as u16;
    let area = centered(frame.area(), width + 2, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {title} (any key closes) "))),
        area,
    );
}
