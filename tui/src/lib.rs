//! tickbench terminal UI: the live run dashboard (`tickbench run`), a terminal stock ticker on any
//! transport (`tickbench view`) and the saved-results viewer (`tickbench show`).
//!
//! Every screen is a folder split the same way, so it can be tested without a terminal: a plain
//! `state` struct, a `view::render(&State, &mut Frame)` that only reads it, and a
//! `keys::handle_key(&mut State, KeyEvent) -> Action` that only changes it. A screen with a live
//! source has a `feed` that produces the events its state applies. The screen's `mod.rs` starts
//! it and hands it, as an [`app::Screen`], to the one event loop in [`app`].
//!
//! # Layout
//! - [`app`]: the one event loop (frame tick, terminal input, a screen's own events) and the
//!   [`Action`] a key asks for.
//! - [`ticker`]: `tickbench view`: `state` (quotes, link, footer statistics, the open detail
//!   view), `keys`, `view` (the table), `detail` (one symbol: `chart` of its `candles`, volume,
//!   day range, and its latency from `history`),
//!   `feed` (snapshot, then a load-generator transport client into a channel) and `api`
//!   (`/symbols`, `/snapshot`); without a URL it starts loadgen's `ChildServer`.
//! - [`dashboard`](mod@dashboard): `tickbench run` on a terminal: `state` (phases merged from per-second
//!   progress), `keys`, `view`, `feed` (the run on its own thread, a bounded progress channel).
//! - [`results`]: `tickbench show`: `load` (a saved run through loadgen's one summary reader) and
//!   `curves` (its percentile curves), `state`, `keys`, `view`, `delta` (B against A) and `text`
//!   (the plain rendering: loadgen's plain table view plus the deltas).
//! - [`widgets`]: shared widgets, one per file: `table` (the ratatui view of loadgen's comparison
//!   table model, beside its Markdown and plain views), log-bucket latency `histogram`,
//!   percentile `spectrum`, block-character `bars`, the `help` overlay, number `fmt`.
//! - [`theme`]: the `NO_COLOR`-aware styles; transport colours from
//!   [`Transport::colour`](tickbench_wire::Transport::colour).
//! - [`term`]: terminal init/restore guard; while it is up, [`log`] keeps log lines off the
//!   screen (the ticker shows the newest on its bottom line; `--log FILE` gets them all).
//! - [`opts`]: `view` and `show` command-line options.
//! - [`error`]: [`Error`], every way a screen can fail.
//!
//! Module graph (a DAG): the screens use `app`, `error`, `theme`, `term`, `opts` and `widgets`;
//! inside a screen `mod.rs` uses its children, `view` uses `keys` (help text) and `state`, `keys`
//! uses `state`, `state` uses `feed` (the events it applies), `feed` uses `api`; `widgets` use
//! `theme`; `app` and `term` use `error`. No child uses its parent's items and this root only
//! delegates.

pub mod app;
pub mod dashboard;
pub mod error;
pub mod log;
pub mod opts;
pub mod results;
pub mod term;
pub mod theme;
pub mod ticker;
pub mod widgets;

pub use app::Action;
pub use error::Error;
pub use opts::{ShowOpts, ViewOpts};

/// Terminal stock ticker.
pub fn view(opts: ViewOpts) -> Result<(), Error> {
    ticker::run(opts)
}

/// Saved-results viewer: interactive on a terminal, text otherwise.
pub fn show(opts: ShowOpts) -> Result<(), Error> {
    results::run(opts)
}

/// Live run dashboard: runs the comparison and shows it on the terminal.
pub fn dashboard(opts: tickbench_loadgen::RunOpts) -> Result<(), Error> {
    dashboard::run(opts)
}
