//! `report.md`, the human-readable page of a results folder: the comparison [`Table`], warnings,
//! the fault-injection and slow-consumer tables, details and configuration.

use std::fmt::Write as _;

use tickbench_wire::{Summary, TransportSummary};

use crate::results::table::Table;

/// The comparison table in Markdown, as `report.md` shows it: [`Table::markdown`] of the run.
pub fn render_table(summary: &Summary) -> String {
    Table::from_summary(summary).markdown()
}

/// `--chaos`: faults injected and how the clients recovered, one row per transport; `None` when
/// no phase ran with chaos.
pub fn render_chaos_table(summary: &Summary) -> Option<String> {
    let rows: Vec<&TransportSummary> = summary
        .transports
        .iter()
        .filter(|t| t.extra.contains_key("chaos_resets"))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let x = |t: &TransportSummary, k: &str| t.extra.get(k).copied().unwrap_or(0.0);
    let mut out = String::from(
        "| transport | resets | stalls | cuts | restarts | faults/s | new connections | reconnects | reconnects/s | loss | gap notices | active last 1 s | active last 5 s |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for t in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.1} | {} | {} | {:.1} | {} | {} | {}/{} | {}/{} |",
            t.name,
            x(t, "chaos_resets"),
            x(t, "chaos_stalls"),
            x(t, "chaos_cuts"),
            x(t, "chaos_restarts"),
            x(t, "chaos_faults_per_s"),
            x(t, "chaos_connections"),
            t.reconnects,
            x(t, "reconnects_per_s"),
            t.loss(),
            t.gap_notices,
            x(t, "clients_active_last_s"),
            t.clients,
            x(t, "clients_active_last_5s"),
            t.clients,
        );
    }
    Some(out)
}

/// `--slow-clients`: the slow consumers' own figures next to the others'; `None` without any.
pub fn render_slow_table(summary: &Summary) -> Option<String> {
    let rows: Vec<&TransportSummary> = summary
        .transports
        .iter()
        .filter(|t| t.extra.get("slow_clients").is_some_and(|n| *n > 0.0))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let x = |t: &TransportSummary, k: &str| t.extra.get(k).copied().unwrap_or(0.0);
    let ms = |us: f64| us / 1000.0;
    let mut out = String::from(
        "| transport | slow clients | others p99 ms | slow p50 ms | slow p99 ms | slow delivered | slow gap notices | others' gap notices | loss | srv RSS MiB start → end |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for t in rows {
        let _ = writeln!(
            out,
            "| {} | {}/{} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {:.1} → {:.1} |",
            t.name,
            x(t, "slow_clients"),
            t.clients,
            t.latency_us.p99 as f64 / 1000.0,
            ms(x(t, "slow_latency_us_p50")),
            ms(x(t, "slow_latency_us_p99")),
            x(t, "slow_delivered"),
            x(t, "slow_gap_notices"),
            x(t, "normal_gap_notices"),
            t.loss(),
            x(t, "server_rss_window_start_bytes") / MIB,
            t.server_rss_bytes as f64 / MIB,
        );
    }
    Some(out)
}

const MIB: f64 = (1 << 20) as f64;

/// Lines that must not be missed: one per saturated phase, one per phase that lost ticks.
pub fn warnings(summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if !summary.complete {
        out.push(
            "INCOMPLETE: the run was interrupted; figures cover only what was measured".into(),
        );
    }
    for t in &summary.transports {
        if t.saturated {
            out.push(format!(
                "SATURATED {}: the load generator was the bottleneck ({}); its latencies describe the instrument",
                t.name,
                t.saturation_reasons.join("; ")
            ));
        }
        if t.loss() > 0 {
            out.push(format!(
                "LOSS {}: {} gaps, {} duplicates, {} out of order",
                t.name, t.gaps, t.duplicates, t.out_of_order
            ));
        }
        if let Some(n) = t.extra.get("latency_clamped").filter(|n| **n > 0.0) {
            out.push(format!(
                "{}: {n} latency samples were above the histogram's range (60 s; an hour for slow consumers) and are recorded at its top: the highest percentiles are lower bounds",
                t.name
            ));
        }
        if t.high_steal() {
            out.push(format!(
                "STEAL {}: the hypervisor took {:.1} % of the machine's CPU during the window (≥ {} %): its tail latencies describe the host",
                t.name,
                t.steal_pct.unwrap_or(0.0),
                tickbench_wire::HIGH_STEAL_PCT
            ));
        }
        if t.clients_receiving < t.clients {
            out.push(format!(
                "{}: only {} of {} clients received a tick",
                t.name, t.clients_receiving, t.clients
            ));
        }
    }
    out
}

/// `report.md`: the table, the warnings, the floor, errors, and the configuration.
pub fn render_report(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# tickbench run `{}`\n", summary.label);
    let _ = writeln!(
        out,
        "Started {} · tickbench {} · {}\n",
        summary.started_at,
        summary.tickbench_version,
        if summary.complete {
            "complete"
        } else {
            "**INCOMPLETE (interrupted)**"
        }
    );
    let _ = writeln!(
        out,
        "{}. Latency is end to end: client parse time − the tick's scheduled time.\n",
        floor_line(summary)
    );
    out.push_str(&render_table(summary));
    out.push('\n');
    let warnings = warnings(summary);
    if !warnings.is_empty() {
        for w in warnings {
            let _ = writeln!(out, "- **{w}**");
        }
        out.push('\n');
    }
    if let Some(chaos) = render_chaos_table(summary) {
        let spec = summary.config["chaos"].as_str().unwrap_or("?");
        let _ = writeln!(
            out,
            "## Fault injection (`--chaos {spec}`)\n\nFaults come from an in-process TCP proxy between the clients and the server (its CPU is the load generator's). Resets, stalls and cuts are counted when applied; *new connections* are the TCP connections the proxy accepted in the window (request transports recover from a reset inside their keep-alive pool, before the next request is written, so they show there rather than as errors or reconnects); restarts stop the embedded server with SIGTERM and start it again with the same seed and `--epoch-us`, so it continues the same sequence. Loss must stay 0; declared gaps are counted as gap notices.\n"
        );
        out.push_str(&chaos);
        out.push('\n');
    }
    if let Some(slow) = render_slow_table(summary) {
        let _ = writeln!(
            out,
            "## Slow consumers (`--slow-clients`, factor {})\n\nThe main table's latencies are the other clients'; the slow clients' are here. Their loss must be declared (gap notices), never silent.\n",
            summary.config["slow_factor"]
        );
        out.push_str(&slow);
        out.push('\n');
    }
    let moved: Vec<_> = summary
        .transports
        .iter()
        .filter_map(|t| Some((t, t.takeover?)))
        .collect();
    if !moved.is_empty() {
        out.push_str("## Edge failover (`--failover`)\n\nClients whose edge was gone moved to another edge of the same feed and resumed by their cursor; a takeover runs from the lost connection to the new edge's answer (resumed by cursor).\n\n| transport | takeovers | p50 ms | p99 ms | max ms |\n|---|--:|--:|--:|--:|\n");
        for (t, k) in moved {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} | {:.1} | {:.1} |",
                t.name, k.count, k.ms_p50, k.ms_p99, k.ms_max
            );
        }
        out.push('\n');
    }
    out.push_str("![latency by percentile](latency.svg)\n\n");
    if let Some(b) = &summary.browser {
        out.push_str(&super::browser::render_browser_section(b));
    }
    let _ = writeln!(out, "## Details\n");
    let _ = writeln!(
        out,
        "| transport | delivered | requests | bytes | errors | reconnects | gap notices | first tick p50 ms | clients receiving | schedule lag p99 µs | srv CPU s | loadgen CPU s | srv RSS MiB | loadgen RSS MiB |"
    );
    let _ = writeln!(
        out,
        "|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for t in &summary.transports {
        let errors = if t.errors.is_empty() {
            "0".to_string()
        } else {
            t.errors
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {}/{} | {} | {:.2} | {:.2} | {:.1} | {:.1} |",
            t.name,
            t.delivered,
            t.requests,
            t.bytes,
            errors,
            t.reconnects,
            t.gap_notices,
            t.first_tick_ms_p50,
            t.clients_receiving,
            t.clients,
            t.schedule_lag_us_p99,
            t.server_cpu_s,
            t.loadgen_cpu_s,
            t.server_rss_bytes as f64 / (1 << 20) as f64,
            t.loadgen_rss_bytes as f64 / (1 << 20) as f64,
        );
    }
    let _ = writeln!(
        out,
        "\nFull distributions: `<transport>.hgrm` (HdrHistogram percentile text), per-second histograms in `latency.hlog`.\n"
    );
    let _ = writeln!(out, "## Configuration\n\n```json");
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&summary.config).unwrap_or_default()
    );
    out.push_str("```\n");
    out
}

/// The loopback floors in one line: the same-thread one (the kernel's loopback path alone) and,
/// when measured, the cross-thread one (plus a thread wake-up, which every tick pays at least once).
pub fn floor_line(summary: &Summary) -> String {
    let f = summary.floor_us;
    let mut line = format!(
        "loopback floor (half a 64 B TCP round trip): same thread p50 {:.1} µs, p99 {:.1} µs",
        f.p50, f.p99
    );
    if let Some(c) = summary.floor_cross_us {
        line.push_str(&format!(
            "; across threads p50 {:.1} µs, p99 {:.1} µs",
            c.p50, c.p99
        ));
    }
    if let Some(ff) = &summary.fanout_floor {
        line.push_str(&format!(
            "\nfan-out floor ({}, one write per delivery, no runtime): p50 {:.2} ms, p99 {:.2} ms, {:.1} µs CPU per delivery (load generator {:.1} µs)",
            ff.name,
            ff.latency_us.p50 as f64 / 1000.0,
            ff.latency_us.p99 as f64 / 1000.0,
            ff.server_cpu_us_per_tick(),
            ff.loadgen_cpu_us_per_tick(),
        ));
    }
    for t in &summary.transports {
        if let (Some(b), Some(r)) = (&t.bare_http, t.bare_http_ratio()) {
            line.push_str(&format!(
                "\n{} requests per load-generator CPU-second: {:.0}, {:.2}× the bare HTTP loop's {:.0} (same {} connections and schedule, nothing but send + read body)",
                t.name,
                t.requests_per_loadgen_cpu_s(),
                r,
                b.requests_per_cpu_s(),
                b.connections,
            ));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::summary::tests::sample_summary;

    #[test]
    fn table_has_one_row_per_transport_and_aligned_columns() {
        let s = sample_summary();
        let t = render_table(&s);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2 + s.transports.len());
        assert!(lines[0].starts_with("| transport |"));
        assert!(lines[2].starts_with("| poll "));
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{t}");
        // 1000 deliveries in 2 s.
        assert!(lines[2].contains(" 500 "), "{t}");
    }

    #[test]
    fn the_bare_http_loop_is_reported_beside_its_phase() {
        let mut s = sample_summary();
        assert!(!floor_line(&s).contains("bare HTTP"));
        s.transports[0].requests = 1000;
        s.transports[0].loadgen_cpu_s = 0.05;
        s.transports[0].bare_http = Some(tickbench_wire::BareHttp {
            connections: 10,
            duration_s: 2.0,
            requests: 2000,
            errors: 0,
            loadgen_cpu_s: 0.08,
        });
        let line = floor_line(&s);
        assert!(
            line.contains("poll requests per load-generator CPU-second: 20000, 0.80× the bare HTTP loop's 25000"),
            "{line}"
        );
    }

    #[test]
    fn chaos_and_slow_tables_only_when_used() {
        let mut s = sample_summary();
        assert!(render_chaos_table(&s).is_none());
        assert!(render_slow_table(&s).is_none());
        s.config = serde_json::json!({"chaos": "reset=1%", "slow_factor": 10.0});
        for (k, v) in [
            ("chaos_resets", 12.0),
            ("chaos_stalls", 0.0),
            ("chaos_cuts", 3.0),
            ("chaos_restarts", 1.0),
            ("reconnects_per_s", 7.5),
            ("clients_active_last_s", 8.0),
            ("slow_clients", 1.0),
            ("slow_latency_us_p99", 2_500_000.0),
        ] {
            s.transports[0].extra.insert(k.into(), v);
        }
        let chaos = render_chaos_table(&s).unwrap();
        assert!(chaos.contains("| poll | 12 | 0 | 3 | 1 |"), "{chaos}");
        assert!(chaos.contains("| 8/10 |"), "{chaos}");
        let slow = render_slow_table(&s).unwrap();
        assert!(slow.contains("2500.00"), "{slow}");
        let r = render_report(&s);
        assert!(r.contains("## Fault injection (`--chaos reset=1%`)"), "{r}");
        assert!(r.contains("## Slow consumers"), "{r}");
    }

    #[test]
    fn saturated_phases_are_loud() {
        let mut s = sample_summary();
        s.transports[0].saturated = true;
        s.transports[0].saturation_reasons = vec!["load generator CPU 190%".into()];
        let r = render_report(&s);
        assert!(r.contains("SATURATED poll"), "{r}");
        assert!(render_table(&s).contains("SATURATED"));
    }
}
