//! Plain output, for when there is no terminal (or `--no-tui`): an indicatif progress bar per phase
//! on stderr while the run measures, then the comparison table and any warnings on stdout (or, with
//! `--format json`, the `summary.json` it wrote).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::opts::{OutputFormat, RunOpts};
use crate::progress::{Progress, Stage};
use crate::results::table::Table;
use crate::results::{self, render_chaos_table, render_slow_table, warnings};
use crate::run::{cancel_on_signals, run_with_progress};

/// Runs the comparison with plain output and returns the results folder. Ctrl-C or SIGTERM stops
/// it; what was measured is written (marked incomplete) and the run ends normally after printing
/// "interrupted" (the binary turns that into exit code 130, see [`crate::stopped_by_signal`]).
pub fn run(opts: RunOpts) -> Result<std::path::PathBuf, Error> {
    let cancel = CancellationToken::new();
    cancel_on_signals(cancel.clone())?;
    if !opts.targets.is_empty() {
        return run_targets_plain(opts, cancel);
    }
    let format = opts.format;
    let (tx, printer) = if opts.quiet {
        (None, None)
    } else {
        let (tx, rx) = mpsc::channel(256);
        let printer = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || print_progress(rx))
            .map_err(Error::os("spawning the progress printer"))?;
        (Some(tx), Some(printer))
    };
    let result = run_with_progress(opts, tx, cancel.clone());
    // The sender is dropped with the run, which ends the printer.
    if let Some(p) = printer {
        let _ = p.join();
    }
    let (_, dir) = result?;

    // What is printed is what was written: the summary is read back as `show` reads it.
    let summary = results::read(&dir)?;
    if format == OutputFormat::Json {
        let json = serde_json::to_string_pretty(&summary).map_err(|e| Error::Encode {
            path: dir.join("summary.json"),
            message: e.to_string(),
        })?;
        println!("{json}");
        if !summary.complete {
            eprintln!("interrupted: partial results in {}", dir.display());
        }
        return Ok(dir);
    }
    println!("{}", Table::from_summary(&summary).plain());
    if let Some(t) = render_chaos_table(&summary) {
        println!("fault injection (proxy CPU is inside the load generator):\n{t}");
    }
    if let Some(t) = render_slow_table(&summary) {
        println!("slow consumers (the table above shows the other clients' latency):\n{t}");
    }
    for w in warnings(&summary) {
        println!("{w}");
    }
    println!("{}", results::report::floor_line(&summary));
    if summary.complete {
        println!("results: {}", dir.display());
    } else {
        println!("interrupted: partial results in {}", dir.display());
    }
    Ok(dir)
}

/// Draws the events of a run on stderr until the channel closes.
fn print_progress(mut rx: mpsc::Receiver<Progress>) {
    let mut bar: Option<ProgressBar> = None;
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos:>3}/{len}s {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    while let Some(event) = rx.blocking_recv() {
        match event {
            Progress::Started {
                target,
                transports,
                total,
                floor_us_p50,
                floor_us_p99,
                link,
            } => {
                eprintln!(
                    "target {target} ({link}): {} phase(s), about {}; loopback floor p50 {floor_us_p50:.1} µs, p99 {floor_us_p99:.1} µs",
                    transports.len(),
                    humantime::format_duration(Duration::from_secs(total.as_secs()))
                );
            }
            Progress::PhaseStarted {
                transport,
                index,
                of,
                clients,
                duration,
            } => {
                let b = ProgressBar::with_draw_target(
                    Some(duration.as_secs().max(1)),
                    ProgressDrawTarget::stderr(),
                );
                b.set_style(style.clone());
                b.set_prefix(transport.name());
                b.set_message(format!("phase {}/{of}, {clients} clients", index + 1));
                bar = Some(b);
            }
            Progress::Second(s) => {
                if let Some(b) = &bar {
                    b.set_position(s.phase_elapsed.as_secs_f64().round() as u64);
                    let stage = match s.stage {
                        Stage::Ramp => "ramp",
                        Stage::Warmup => "warm-up",
                        Stage::Measure => "measure",
                    };
                    let p99 = if s.interval.is_empty() {
                        "-".to_string()
                    } else {
                        format!(
                            "{:.1} ms",
                            s.interval.value_at_quantile(0.99) as f64 / 1000.0
                        )
                    };
                    let loss = s.gaps + s.duplicates + s.out_of_order;
                    b.set_message(format!(
                        "{stage:<7} {}/{} up, {} ticks/s, p99 {p99}, loss {loss}, cpu {:.0}%{}",
                        s.clients_connected,
                        s.clients_target,
                        s.delivered,
                        s.loadgen_cpu_pct,
                        if s.saturated { " SATURATED" } else { "" }
                    ));
                }
            }
            Progress::PhaseFinished(t) => {
                let line = format!(
                    "{} deliveries/s, p50 {:.2} ms, p99 {:.2} ms, loss {}{}",
                    t.deliveries_per_s().round(),
                    t.latency_us.p50 as f64 / 1000.0,
                    t.latency_us.p99 as f64 / 1000.0,
                    t.loss(),
                    if t.saturated { ", SATURATED" } else { "" }
                );
                match bar.take() {
                    // indicatif draws nothing when stderr is not a terminal: say it in a line.
                    Some(b) if !b.is_hidden() => b.finish_with_message(line),
                    _ => eprintln!("{}: {line}", t.name),
                }
                if t.saturated {
                    eprintln!("SATURATED {}: {}", t.name, t.saturation_reasons.join("; "));
                }
            }
            Progress::Finished { .. } => {
                if let Some(b) = bar.take() {
                    b.abandon();
                }
            }
        }
    }
    if let Some(b) = bar.take() {
        b.abandon();
    }
}

/// `--targets`: every server in turn with plain progress, then the side-by-side table.
fn run_targets_plain(
    opts: RunOpts,
    cancel: CancellationToken,
) -> Result<std::path::PathBuf, Error> {
    let (tx, rx) = mpsc::channel(256);
    let printer = std::thread::Builder::new()
        .name("progress".into())
        .spawn(move || print_progress(rx))
        .map_err(Error::os("spawning the progress printer"))?;
    let result = crate::run::targets::run_targets(opts, Some(tx), cancel);
    let _ = printer.join();
    let (dir, report) = result?;
    println!("{report}");
    println!("results: {}", dir.display());
    Ok(dir)
}
