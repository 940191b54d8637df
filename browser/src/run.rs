//! `tickbench browser`: chromium (installed if missing), the server (embedded or a URL), one page
//! per technique, the compare view, and the results folder; and [`run_phase`], the same
//! measurement as `tickbench run --browser`'s phase.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tickbench_loadgen::child::{ChildServer, ServerArgs};
use tickbench_loadgen::results::browser::{render_browser_report, render_browser_section};
use tickbench_loadgen::results::ResultsDir;
use tickbench_loadgen::{BrowserPhase, RunOpts, Watch};
use tickbench_wire::{BrowserSection, Floor, Summary, Technique, SCHEMA_VERSION};

use crate::cdp::Browser;
use crate::error::Error;
use crate::install;
use crate::measure::{self, Plan};
use crate::opts::{available, BrowserOpts};

/// What one browser measurement opens, whoever started the server.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub techniques: Vec<Technique>,
    pub watch: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub interval: Duration,
    pub actions: u32,
    /// 0 skips the compare view.
    pub compare: Duration,
    /// Accept any certificate (the embedded server's self-signed one).
    pub insecure: bool,
}

/// Runs `tickbench browser`; returns the summary and the results folder.
pub fn run(opts: BrowserOpts) -> Result<(Summary, PathBuf), Error> {
    opts.validate()?;
    let chromium = install::chromium()?;
    let started = SystemTime::now();
    // The child, if any, lives until this function returns.
    let (child, base) = match &opts.url {
        Some(u) => (None, u.trim_end_matches('/').to_string()),
        None => {
            let exe = match &opts.server_bin {
                Some(p) => p.clone(),
                None => std::env::current_exe().map_err(|source| Error::Write {
                    path: "this executable".into(),
                    source,
                })?,
            };
            let extra = if opts.tls {
                vec!["--tls".to_string()]
            } else {
                Vec::new()
            };
            let c = ChildServer::start(ServerArgs {
                rate: Some(opts.rate),
                seed: Some(opts.seed),
                symbols: Some(opts.symbols),
                extra,
                quiet: true,
                ..ServerArgs::new(exe)
            })
            .map_err(|e| {
                if opts.tls {
                    Error::Options(format!("--tls needs `tickbench serve --tls` (issue 11); the embedded server did not start with it: {e}"))
                } else {
                    Error::Loadgen(e)
                }
            })?;
            let url = c.url().to_string();
            (Some(c), url)
        }
    };
    let results = ResultsDir::create(&opts.out, &opts.label, started)?;
    let m = Measurement {
        techniques: opts.transports.clone(),
        watch: opts.watch,
        warmup: opts.warmup,
        duration: opts.duration,
        interval: opts.poll_interval,
        actions: opts.action_rate,
        compare: opts.compare,
        insecure: opts.tls,
    };
    let section = measure_section(&chromium, &base, &m, results.path())?;
    drop(child);
    let summary = Summary {
        schema: SCHEMA_VERSION,
        tickbench_version: env!("CARGO_PKG_VERSION").to_string(),
        label: opts.label.clone(),
        started_at: chrono::DateTime::<chrono::Utc>::from(started)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        complete: true,
        config: serde_json::json!({
            "command": "browser",
            "url": opts.url,
            "transports": opts.transports,
            "duration": humantime::format_duration(opts.duration).to_string(),
            "warmup": humantime::format_duration(opts.warmup).to_string(),
            "compare": humantime::format_duration(opts.compare).to_string(),
            "watch": opts.watch,
            "rate": opts.rate,
            "symbols": opts.symbols,
            "seed": opts.seed,
            "poll_interval": humantime::format_duration(opts.poll_interval).to_string(),
            "action_rate": opts.action_rate,
            "tls": opts.tls,
        }),
        floor_us: Floor::default(),
        floor_cross_us: None,
        transports: Vec::new(),
        browser: Some(Box::new(section)),
        fanout_floor: None,
        hgrm_unit: tickbench_wire::HgrmUnit::Ms,
        host: Some(Box::new(tickbench_loadgen::host::detect())),
    };
    let report = results.path().join("report.md");
    std::fs::write(&report, render_browser_report(&summary)).map_err(|source| Error::Write {
        path: report.clone(),
        source,
    })?;
    results.write_summary(&summary)?;
    if let Some(b) = &summary.browser {
        println!("{}", render_browser_section(b));
    }
    println!("results: {}", results.path().display());
    Ok((summary, results.path().to_path_buf()))
}

/// Launches chromium, opens one page per technique against `base` (screenshots into `shots`),
/// then the compare view.
pub fn measure_section(
    chromium: &Path,
    base: &str,
    m: &Measurement,
    shots: &Path,
) -> Result<BrowserSection, Error> {
    let browser = Browser::launch(chromium, m.insecure)?;
    let symbols = measure::top_symbols(&browser, base, m.watch)?;
    let plan = Plan {
        base: base.to_string(),
        symbols,
        warmup: m.warmup,
        duration: m.duration,
        interval: m.interval,
        actions: m.actions,
    };
    let mut section = BrowserSection {
        browser: browser.version().to_string(),
        url: format!("{base}/"),
        symbols: plan.symbols.len() as u64,
        techniques: Vec::new(),
        compare: None,
    };
    for &t in &m.techniques {
        eprintln!(
            "browser: {t} for {}…",
            humantime::format_duration(m.duration)
        );
        let row = measure::technique(&browser, &plan, t, Some(shots))?;
        eprintln!(
            "browser: {t}: {} delivered, loss {}, p50 {:.1} ms, p99 {:.1} ms",
            row.delivered,
            row.loss(),
            row.latency_us.p50 as f64 / 1000.0,
            row.latency_us.p99 as f64 / 1000.0
        );
        section.techniques.push(row);
    }
    if !m.compare.is_zero() {
        eprintln!(
            "browser: compare view for {}…",
            humantime::format_duration(m.compare)
        );
        section.compare = Some(measure::compare(&browser, &plan, m.compare, Some(shots))?);
    }
    Ok(section)
}

/// `tickbench run --browser`: the phase the binary plugs into `opts`, measuring every available
/// technique for the run's `--duration` with its poll interval, action rate and watchlist size.
pub fn run_phase(opts: &RunOpts) -> BrowserPhase {
    let m = Measurement {
        techniques: available(),
        watch: match opts.watch {
            Watch::Count(n) => n,
            Watch::All => 1000,
        },
        warmup: opts.warmup.max(Duration::from_secs(1)),
        duration: opts.duration,
        interval: opts.poll_interval,
        actions: opts.action_rate.round().clamp(0.0, 100.0) as u32,
        compare: Duration::from_secs(10),
        insecure: false,
    };
    BrowserPhase(std::sync::Arc::new(move |base: &str, dir: &Path| {
        let chromium = install::chromium().map_err(|e| e.to_string())?;
        measure_section(&chromium, base, &m, dir).map_err(|e| e.to_string())
    }))
}
