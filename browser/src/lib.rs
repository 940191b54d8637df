//! tickbench in a real browser: Debian's `chromium`, headless, driven over the DevTools protocol,
//! opens the server's page (`/?transport=NAME`) once per technique, reads
//! `window.tickbench.stats()` (delivered, loss counters, latency from each tick's scheduled
//! `ts`), takes a screenshot, and writes the `browser` section of `summary.json`.
//!
//! ```no_run
//! let exe = tickbench_browser::install::chromium()?; // installs Debian's chromium if missing
//! let browser = tickbench_browser::Browser::launch(&exe, false)?;
//! println!("{}", browser.version());
//! # Ok::<(), tickbench_browser::Error>(())
//! ```
//!
//! Dependency direction: this crate depends on `loadgen` (the embedded `ChildServer`, the results
//! folder and its report); `loadgen` does not depend on it. `tickbench run --browser` works
//! through [`tickbench_loadgen::BrowserPhase`], a hook the binary fills with [`run_phase`].
//!
//! # Layout
//! - [`error`]: the [`Error`] type.
//! - [`install`]: finding chromium, installing it with apt-get when missing.
//! - [`cdp`]: [`Browser`], the chromium process and the DevTools protocol over its pipe.
//! - [`tab`]: [`Tab`](tab::Tab), one page: navigate, evaluate, wait, screenshot.
//! - [`measure`]: one technique's page measured; the compare view.
//! - [`opts`]: [`BrowserOpts`], the `tickbench browser` flags.
//! - [`run`](mod@run): [`run()`](run::run), `tickbench browser`; [`run_phase`], `run --browser`.

pub mod cdp;
pub mod error;
pub mod install;
pub mod measure;
pub mod opts;
pub mod run;
pub mod tab;

pub use cdp::Browser;
pub use error::Error;
pub use opts::BrowserOpts;
pub use run::{run, run_phase};
