//! The side-by-side report of `--targets`: one row per server and transport — deliveries/s,
//! latency percentiles, loss, server CPU per delivery, server RSS per subscriber — and which
//! transports each server lacks, as Markdown (`report.md` of the side-by-side folder, and stdout).

use std::fmt::Write as _;

use tickbench_wire::{Summary, Transport};

use crate::targets::TargetKind;

/// One server's run in a side-by-side comparison.
#[derive(Debug, Clone)]
pub struct TargetRun {
    pub kind: TargetKind,
    /// Its summary, or why it could not be measured.
    pub outcome: Result<Summary, String>,
}

/// The Markdown report for the `transports` asked for.
pub fn render(runs: &[TargetRun], transports: &[Transport]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| target | transport | clients | deliveries/s | p50 µs | p99 µs | p99.9 µs | loss (gaps/dup/ooo/declared) | server CPU µs/delivery | server RSS KiB/subscriber |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---|---:|---:|");
    for run in runs {
        let Ok(summary) = &run.outcome else {
            continue;
        };
        for t in &summary.transports {
            let delivered = t.delivered.max(1) as f64;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {} | {} | {} | {}/{}/{}/{} | {:.1} | {:.1} |",
                run.kind,
                t.name,
                t.clients,
                t.delivered as f64 / t.duration_s.max(1e-9),
                t.latency_us.p50,
                t.latency_us.p99,
                t.latency_us.p999,
                t.gaps,
                t.duplicates,
                t.out_of_order,
                t.gap_notices,
                t.server_cpu_s * 1e6 / delivered,
                t.server_rss_bytes as f64 / 1024.0 / t.clients.max(1) as f64,
            );
        }
    }
    out.push('\n');
    for run in runs {
        let lacks: Vec<&str> = run
            .kind
            .lacks(transports)
            .into_iter()
            .map(Transport::name)
            .collect();
        if !lacks.is_empty() {
            let _ = writeln!(out, "- {} lacks: {}", run.kind, lacks.join(", "));
        }
        if let Err(why) = &run.outcome {
            let _ = writeln!(out, "- {} was not measured: {why}", run.kind);
        }
        if let Ok(s) = &run.outcome {
            if !s.complete {
                let _ = writeln!(out, "- {}: the run is incomplete (interrupted)", run.kind);
            }
        }
    }
    out.push_str(
        "\nServer CPU and RSS come from /proc: tickbench's server process; nginx's master and \
         workers; Pushpin's runner and services plus the GRIP backend thread (CPU only; Pushpin's \
         figures include its two warm subscriptions, two deliveries per tick). RSS per \
         subscriber is the server's whole RSS at the end of the window divided by the clients, so \
         it includes the server's idle footprint. The peers' latency includes the publisher's hop \
         (the tick is read from tickbench's stream and published), measured from the same \
         scheduled `ts`.\n",
    );
    out
}
