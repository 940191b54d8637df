//! Draws the detail view of one symbol (Enter on its row): its quote and day range, a
//! candlestick chart of its price at the chosen interval with volume bars and a time axis, the
//! latency of its ticks on the current transport, then the ticker's status and key lines. Reads
//! [`TickerState`] only; usable from 80×24 up.

use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::ticker::candles::Interval;
use crate::ticker::chart;
use crate::ticker::history::WINDOW_S;
use crate::ticker::keys::{help, transport_keys};
use crate::ticker::state::TickerState;
use crate::ticker::view::{bottom_line, status_line, tabs_line};
use crate::widgets::fmt::{fmt_num, fmt_us};
use crate::widgets::help::render_help;

/// Rows of volume bars under the chart.
const VOLUME_ROWS: u16 = 3;

/// Draws the detail view of `state.detail` (nothing when none is open).
pub fn render(state: &TickerState, frame: &mut Frame) {
    let Some(detail) = &state.detail else {
        return;
    };
    let th = &state.theme;
    let [tabs, quote, range, chart_area, volume, axis, latency, status, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(VOLUME_ROWS),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(tabs_line(state)), tabs);

    let row = state.rows.iter().find(|r| r.sym == detail.sym);
    let quote_line = match row {
        Some(r) => {
            let style = if r.change() > 0.0 {
                th.up()
            } else if r.change() < 0.0 {
                th.down()
            } else {
                th.header()
            };
            Line::from(vec![
                Span::styled(format!(" {} ", r.sym), th.selected()),
                Span::styled(format!(" {:.2}", r.last), th.header()),
                Span::styled(
                    format!("  {:+.2} {:+.2}%", r.change(), r.change_pct()),
                    style,
                ),
                Span::raw(format!("   bid {:.2}  ask {:.2}", r.bid, r.ask)),
            ])
        }
        None => Line::from(vec![
            Span::styled(format!(" {} ", detail.sym), th.selected()),
            Span::styled("  waiting for the snapshot…", th.dim()),
        ]),
    };
    frame.render_widget(Paragraph::new(quote_line), quote);
    if let Some(r) = row {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(" day ", th.dim()),
                Span::raw(format!(
                    "open {:.2}  high {:.2}  low {:.2}  volume {}",
                    r.open,
                    r.high,
                    r.low,
                    fmt_num(r.volume as f64)
                )),
            ])),
            range,
        );
    }

    let history = state.history.get(&detail.sym);
    let candles: Vec<_> = history
        .map(|h| h.candles.at(detail.interval).iter().copied().collect())
        .unwrap_or_default();
    let buf = frame.buffer_mut();
    if candles.is_empty() {
        buf.set_string(
            chart_area.x + 1,
            chart_area.y + chart_area.height / 2,
            format!(
                "no {} candles yet: ticks of {} draw them",
                detail.interval.label(),
                detail.sym
            ),
            th.dim(),
        );
    }
    chart::candlesticks(buf, chart_area, &candles, th);
    chart::volume_bars(buf, volume, &candles, th);
    chart::time_axis(buf, axis, &candles, th);

    let mut lat = vec![Span::styled(
        format!(" {} candles ", detail.interval.label()),
        th.header(),
    )];
    match history.and_then(|h| h.latency(state.now_us)) {
        Some(l) => lat.push(Span::raw(format!(
            " {} ticks of {} on {}: p50 {} p99 {} max {} ({WINDOW_S}s)",
            l.ticks,
            detail.sym,
            state.transport.name(),
            fmt_us(l.p50_us as f64),
            fmt_us(l.p99_us as f64),
            fmt_us(l.max_us as f64),
        ))),
        None => lat.push(Span::styled(
            format!(
                " no ticks of {} on {} in the last {WINDOW_S}s",
                detail.sym,
                state.transport.name()
            ),
            th.dim(),
        )),
    }
    frame.render_widget(Paragraph::new(Line::from(lat)), latency);
    frame.render_widget(Paragraph::new(status_line(state)), status);
    let next = detail.interval.next();
    let keys_text = format!(
        " Esc back  c {} candles  {} transport  q quit   ({})",
        next.label(),
        transport_keys(),
        Interval::ALL.map(Interval::label).join("/"),
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
