//! One technique's page measured: open `/?transport=NAME&symbols=..`, wait until it is ready,
//! warm up, zero its counters, let it run, read `window.tickbench.stats()`, take a screenshot.
//! And the compare view: every technique in one page, and which of them stalled.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use tickbench_wire::{BrowserCompare, BrowserTechnique, LatencySummary, Technique};

use crate::cdp::Browser;
use crate::error::Error;
use crate::tab::Tab;

/// How long a page may take to load its snapshot and start its technique.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// What every page of a measurement is opened with.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
    /// The watchlist, upper case.
    pub symbols: Vec<String>,
    /// Not measured: the page's connection, first answers, first ticks.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// The polling techniques' interval.
    pub interval: Duration,
    /// Piggyback's simulated actions per second.
    pub actions: u32,
}

impl Plan {
    /// The page's URL for `technique`.
    pub fn url(&self, technique: Technique) -> String {
        format!(
            "{}/?transport={}&symbols={}&interval={}&actions={}",
            self.base,
            technique.name(),
            self.symbols.join(","),
            self.interval.as_millis(),
            self.actions
        )
    }
}

/// `window.tickbench.stats()` of a single-technique page.
#[derive(Debug, Clone, Deserialize)]
pub struct PageStats {
    pub technique: String,
    pub protocol: String,
    pub elapsed_s: f64,
    pub delivered: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub gap_notices: u64,
    pub reconnects: u64,
    pub requests: u64,
    pub bytes: u64,
    pub errors: u64,
    pub csp_violations: u64,
    #[serde(default)]
    pub last_error: String,
    pub latency_us: PageLatency,
}

/// The page histogram's summary, µs.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PageLatency {
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
    pub count: u64,
}

impl PageStats {
    /// The summary row.
    pub fn row(&self, screenshot: Option<String>) -> BrowserTechnique {
        let l = self.latency_us;
        BrowserTechnique {
            name: self.technique.clone(),
            protocol: self.protocol.clone(),
            duration_s: self.elapsed_s,
            delivered: self.delivered,
            gaps: self.gaps,
            duplicates: self.duplicates,
            out_of_order: self.out_of_order,
            gap_notices: self.gap_notices,
            reconnects: self.reconnects,
            requests: self.requests,
            bytes: self.bytes,
            errors: self.errors,
            latency_us: LatencySummary {
                min: l.min as u64,
                p50: l.p50 as u64,
                p90: l.p90 as u64,
                p99: l.p99 as u64,
                p999: l.p999 as u64,
                max: l.max as u64,
                mean: l.mean,
            },
            screenshot,
        }
    }
}

/// A technique's page, open and running.
#[derive(Debug)]
pub struct Running<'b> {
    tab: Tab<'b>,
}

impl<'b> Running<'b> {
    /// Opens the page and waits until its technique has started.
    pub fn open(browser: &'b Browser, plan: &Plan, technique: Technique) -> Result<Self, Error> {
        let tab = Tab::open(browser)?;
        tab.navigate(&plan.url(technique))?;
        tab.wait_for(
            "window.tickbench && window.tickbench.ready === true",
            READY_TIMEOUT,
        )
        .map_err(|e| Error::Page(format!("for {technique} {e}")))?;
        Ok(Running { tab })
    }

    /// Zeroes the page's counters (cursor and baselines stay): the measured window starts.
    pub fn reset(&self) -> Result<(), Error> {
        self.tab.eval("window.tickbench.reset()").map(|_| ())
    }

    /// The page's counters now.
    pub fn stats(&self) -> Result<PageStats, Error> {
        let v = self.tab.eval("window.tickbench.stats()")?;
        serde_json::from_value(v.clone())
            .map_err(|e| Error::Page(format!("gave stats that do not parse ({e}): {v}")))
    }

    /// Waits until the page has received at least `n` ticks since its last reset, or `timeout`.
    pub fn wait_delivered(&self, n: u64, timeout: Duration) -> Result<PageStats, Error> {
        let expr = format!("window.tickbench.stats().delivered >= {n}");
        let _ = self.tab.wait_for(&expr, timeout);
        self.stats()
    }

    pub fn screenshot(&self, path: &Path) -> Result<(), Error> {
        self.tab.screenshot(path)
    }
}

/// Measures one technique: warm-up, reset, the window, stats, and a screenshot into `shots`
/// (`browser-<name>.png`) when given.
pub fn technique(
    browser: &Browser,
    plan: &Plan,
    t: Technique,
    shots: Option<&Path>,
) -> Result<BrowserTechnique, Error> {
    let page = Running::open(browser, plan, t)?;
    std::thread::sleep(plan.warmup);
    page.reset()?;
    std::thread::sleep(plan.duration);
    let stats = page.stats()?;
    let shot = match shots {
        Some(dir) => {
            let name = format!("browser-{}.png", t.name());
            page.screenshot(&dir.join(&name))?;
            Some(name)
        }
        None => None,
    };
    Ok(stats.row(shot))
}

/// The compare view's `window.tickbench.stats()`.
#[derive(Debug, Deserialize)]
struct CompareStats {
    protocol: String,
    elapsed_s: f64,
    stalled: Vec<String>,
    techniques: BTreeMap<String, Option<PageStatsLite>>,
}

#[derive(Debug, Deserialize)]
struct PageStatsLite {
    delivered: u64,
}

/// Opens `/?view=compare` for `open_for`, then reads which techniques stalled.
pub fn compare(
    browser: &Browser,
    plan: &Plan,
    open_for: Duration,
    shots: Option<&Path>,
) -> Result<BrowserCompare, Error> {
    let tab = Tab::open(browser)?;
    let url = format!(
        "{}/?view=compare&symbols={}&interval={}",
        plan.base,
        plan.symbols.join(","),
        plan.interval.as_millis()
    );
    tab.navigate(&url)?;
    tab.wait_for("window.tickbench && window.tickbench.ready", READY_TIMEOUT)?;
    std::thread::sleep(open_for);
    let v = tab.eval("window.tickbench.stats()")?;
    let s: CompareStats = serde_json::from_value(v.clone()).map_err(|e| {
        Error::Page(format!(
            "compare view gave stats that do not parse ({e}): {v}"
        ))
    })?;
    let screenshot = match shots {
        Some(dir) => {
            tab.screenshot(&dir.join("browser-compare.png"))?;
            Some("browser-compare.png".to_string())
        }
        None => None,
    };
    Ok(BrowserCompare {
        protocol: s.protocol,
        duration_s: s.elapsed_s,
        stalled: s.stalled,
        delivered: s
            .techniques
            .into_iter()
            .map(|(k, v)| (k, v.map_or(0, |p| p.delivered)))
            .collect(),
        screenshot,
    })
}

/// The `n` most popular symbols of the server at `base`, read by the browser itself.
pub fn top_symbols(browser: &Browser, base: &str, n: usize) -> Result<Vec<String>, Error> {
    let tab = Tab::open(browser)?;
    tab.navigate(&format!("{base}/symbols"))?;
    let v = tab.wait_for(
        &format!("JSON.parse(document.body.innerText).symbols.slice(0, {n}).map(s => s.sym)"),
        READY_TIMEOUT,
    )?;
    let names: Vec<String> = serde_json::from_value(v)
        .map_err(|e| Error::Page(format!("{base}/symbols is not a symbol list: {e}")))?;
    if names.is_empty() {
        return Err(Error::Page(format!("{base}/symbols lists no symbols")));
    }
    Ok(names)
}
