//! Draws the ticker: transport tabs, the quote table with flashing digits and sparklines, the
//! status line and the key line. Reads [`TickerState`] only.

use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;
use tickbench_wire::Transport;

use crate::ticker::keys::{help, transport_keys};
use crate::ticker::state::{SortKey, TickerState, WINDOW_S};
use crate::widgets::bars::sparkline;
use crate::widgets::fmt::{fmt_num, fmt_us};
use crate::widgets::help::render_help;

/// `price` right-aligned in `w` cells, with the digits that differ from `prev` styled `flash`.
fn flash_cell(price: f64, prev: Option<f64>, w: usize, flash: Style) -> Cell<'static> {
    let new = format!("{price:>w$.2}");
    let Some(prev) = prev.filter(|p| *p != price) else {
        return Cell::from(new);
    };
    let old = format!("{prev:>w$.2}");
    let split = new
        .char_indices()
        .zip(old.chars())
        .find(|((_, a), b)| a != b)
        .map_or(new.len(), |((i, _), _)| i);
    Cell::from(Line::from(vec![
        Span::raw(new[..split].to_string()),
        Span::styled(new[split..].to_string(), flash),
    ]))
}

/// `+1.23` / `-12.34` / `+123`.
fn fmt_change(v: f64) -> String {
    if v.abs() < 100.0 {
        format!("{v:+.2}")
    } else {
        format!("{v:+.0}")
    }
}

/// `+1.23%` / `-12.3%`.
fn fmt_change_pct(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("{v:+.2}%")
    } else {
        format!("{v:+.1}%")
    }
}

/// Transport tabs: each transport's key and name, the current one highlighted. One space between
/// labels so all of them fit in 80 columns.
pub fn tabs_line(state: &TickerState) -> Line<'static> {
    let th = &state.theme;
    let mut spans = vec![Span::raw(" ")];
    for t in Transport::ALL {
        let label = format!("{} {}", t.key(), t.name());
        spans.push(if t == state.transport {
            Span::styled(label, th.selected())
        } else {
            Span::styled(label, th.dim())
        });
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

/// Status line: transport, connection state, rate, latency, loss, reconnects.
pub fn status_line(state: &TickerState) -> Line<'static> {
    let th = &state.theme;
    let (st, st_style) = state.status();
    let mut s = vec![
        Span::styled(format!(" {} ", state.transport.name()), th.selected()),
        Span::raw(" "),
        Span::styled(st, st_style),
        Span::raw(format!("  {} ticks/s", fmt_num(state.ticks_per_s()))),
    ];
    match state.latency() {
        Some((p50, p99)) => s.push(Span::raw(format!(
            "  p50 {} p99 {} ({WINDOW_S}s)",
            fmt_us(p50 as f64),
            fmt_us(p99 as f64)
        ))),
        None => s.push(Span::styled("  no latency yet", th.dim())),
    }
    if state.gap_ticks > 0 {
        s.push(Span::styled(
            format!("  lost {}", state.gap_ticks),
            th.bad(),
        ));
    }
    if state.reconnects > 0 {
        s.push(Span::raw(format!("  reconnects {}", state.reconnects)));
    }
    Line::from(s)
}

/// The bottom line: the symbol input, else a notice, else the newest log line (log output never
/// goes across the screen), else the keys.
pub fn bottom_line(state: &TickerState, keys: String) -> Line<'static> {
    let th = &state.theme;
    if let Some(input) = &state.input {
        Line::from(vec![
            Span::styled(" add symbols: ", th.header()),
            Span::raw(format!("{input}█")),
            Span::styled("  (Enter adds, Esc cancels)", th.dim()),
        ])
    } else if let Some(n) = &state.notice {
        Line::styled(format!(" {n}"), th.warn())
    } else if let Some(l) = state.recent_log() {
        let style = if l.level == "ERROR" {
            th.bad()
        } else if l.is_problem() {
            th.warn()
        } else {
            th.dim()
        };
        let more = if state.log_lines > 1 {
            format!(" ({} log lines)", state.log_lines)
        } else {
            String::new()
        };
        Line::styled(format!(" {} {}{more}", l.level, l.text), style)
    } else {
        Line::styled(keys, th.dim())
    }
}

/// Draws the ticker.
pub fn render(state: &TickerState, frame: &mut Frame) {
    let th = &state.theme;
    let [tabs, table_area, status, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    frame.render_widget(Paragraph::new(tabs_line(state)), tabs);

    // The quote table.
    let sort_mark = |k: SortKey, title: &'static str| -> Cell<'static> {
        let t = if state.sort == k {
            format!("{title}{}", if state.descending { "▼" } else { "▲" })
        } else {
            title.to_string()
        };
        Cell::from(Line::styled(t, th.header()).right_aligned())
    };
    let hdr = |t: &'static str| Cell::from(Line::styled(t, th.header()).right_aligned());
    let header = Row::new(vec![
        if state.sort == SortKey::Symbol {
            Cell::from(Span::styled(
                format!("sym{}", if state.descending { "▼" } else { "▲" }),
                th.header(),
            ))
        } else {
            Cell::from(Span::styled("symbol", th.header()))
        },
        sort_mark(SortKey::Last, "last"),
        hdr("chg"),
        sort_mark(SortKey::ChangePct, "chg%"),
        hdr("bid"),
        hdr("ask"),
        sort_mark(SortKey::Volume, "volume"),
        hdr("low"),
        hdr("high"),
        Cell::from(Span::styled("trend", th.header())),
    ]);
    let spark_w = (table_area.width as usize).saturating_sub(74).clamp(1, 40);
    let rows: Vec<Row> = state
        .order()
        .into_iter()
        .map(|i| {
            let r = &state.rows[i];
            let flash = r.flash.filter(|f| f.until_us > state.now_us);
            let up = r.last >= flash.map_or(r.last, |f| f.prev_last);
            let fstyle = if up { th.flash_up() } else { th.flash_down() };
            let chg_style = if r.change() > 0.0 {
                th.up()
            } else if r.change() < 0.0 {
                th.down()
            } else {
                Style::new()
            };
            let hist: Vec<f64> = r.history.iter().copied().collect();
            Row::new(vec![
                Cell::from(Span::styled(
                    r.sym.clone(),
                    Style::new().add_modifier(Modifier::BOLD),
                )),
                flash_cell(r.last, flash.map(|f| f.prev_last), 8, fstyle),
                Cell::from(Line::styled(fmt_change(r.change()), chg_style).right_aligned()),
                Cell::from(Line::styled(fmt_change_pct(r.change_pct()), chg_style).right_aligned()),
                flash_cell(r.bid, flash.map(|f| f.prev_bid), 8, fstyle),
                flash_cell(r.ask, flash.map(|f| f.prev_ask), 8, fstyle),
                Cell::from(Line::from(fmt_num(r.volume as f64)).right_aligned()),
                Cell::from(format!("{:>8.2}", r.low)),
                Cell::from(format!("{:>8.2}", r.high)),
                Cell::from(Span::styled(sparkline(&hist, spark_w), chg_style)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Min(1),
    ];
    let empty = rows.is_empty();
    let mut ts = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED)),
        table_area,
        &mut ts,
    );
    if empty {
        let [_, msg] =
            Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(table_area);
        frame.render_widget(
            Paragraph::new(Line::styled(" waiting for the snapshot…", th.dim())),
            msg,
        );
    }

    frame.render_widget(Paragraph::new(status_line(state)), status);
    let keys_text = format!(
        " q quit  {} transport  s sort ({})  Enter chart  / add  d remove  ? help",
        transport_keys(),
        state.sort.name()
    );
    frame.render_widget(Paragraph::new(bottom_line(state, keys_text)), keys);
    if state.help {
        let lines = help();
        let pairs: Vec<(&str, &str)> = lines
            .iter()
            .map(|(k, w)| (k.as_str(), w.as_str()))
            .collect();
        render_help(frame, th, "tickbench view", &pairs);
    }
}
