//! `tickbench compare` as a command: load, gate, print in the chosen format, return the exit code.

use super::error::BadInput;
use super::gate::compare_runs;
use super::input::load_run;
use super::model::{Comparison, GateVerdict};
use super::opts::{CompareOpts, Format};
use super::render::{gate_bad_input, json_bad_input};
use super::thresholds::Thresholds;

/// `tickbench compare`: prints the chosen format on stdout and returns the exit code (0 pass,
/// 1 regression, 2 bad input).
pub fn compare(opts: CompareOpts) -> u8 {
    let result = run_compare(&opts);
    // A script reads stdout; the reason still goes to stderr for the log.
    if let Err(e) = &result {
        match opts.format {
            Format::Gate => {
                let _ = print(&gate_bad_input(&e.to_string()));
            }
            Format::Json => {
                let _ = print(&pretty(&json_bad_input(&e.to_string())));
            }
            Format::Md | Format::Benchmark => {}
        }
    }
    match result {
        Ok((cmp, out)) => {
            if let Err(e) = print(&out) {
                eprintln!("tickbench compare: {e}");
                return GateVerdict::BadInput.exit_code();
            }
            if opts.format != Format::Md {
                eprintln!(
                    "tickbench compare: {} regression(s), {} warning(s)",
                    cmp.regressions(),
                    cmp.warnings()
                );
            }
            cmp.verdict().exit_code()
        }
        Err(e) => {
            eprintln!("tickbench compare: {e}");
            GateVerdict::BadInput.exit_code()
        }
    }
}

fn run_compare(opts: &CompareOpts) -> Result<(Comparison, String), BadInput> {
    let thresholds = Thresholds::load(opts)?;
    let baseline = load_run(&opts.baseline)?;
    let current = load_run(&opts.current)?;
    let cmp = compare_runs(&baseline, &current, &thresholds, opts.absolute, opts.strict)?;
    let out = match opts.format {
        Format::Md => cmp.markdown(),
        Format::Json => pretty(&cmp.json()),
        Format::Benchmark => pretty(&cmp.benchmark()),
        Format::Gate => cmp.gate(),
    };
    Ok((cmp, out))
}

/// Pretty JSON with a final newline.
fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}

/// Writes `out` to stdout; a closed pipe (`| head`) is not an error.
fn print(out: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}
