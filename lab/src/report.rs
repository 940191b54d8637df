//! The files a sweep leaves next to its cells: `sweep.json` (the record), `sweep.csv` (one row per
//! cell, for spreadsheets and pandas), `charts/*.svg` and `report.md` (claim, verdict paragraph,
//! table, charts).

use std::fmt::Write as _;
use std::path::Path;

use crate::charts::{self, Chart};
use crate::claims;
use crate::error::Error;
use crate::points::{points, Point};
use crate::record::{CellStatus, SweepRecord};
use crate::units::{fmt_dur, fmt_num, fmt_us};

/// Computes the verdict into `record` and writes sweep.json, sweep.csv, charts and report.md.
pub fn write_all(record: &mut SweepRecord, dir: &Path) -> Result<(), Error> {
    let pts = points(&record.cells);
    record.verdict = record
        .experiment
        .verdict
        .as_ref()
        .map(|check| claims::judge(check, &pts));
    write_json(record, dir)?;
    std::fs::write(dir.join("sweep.csv"), csv(record)).map_err(Error::io("writing sweep.csv"))?;
    let charts = charts::write_all(&pts, &dir.join("charts")).unwrap_or_else(|e| {
        tracing::warn!("charts not drawn: {e:#}");
        Vec::new()
    });
    std::fs::write(dir.join("report.md"), markdown(record, &pts, &charts))
        .map_err(Error::io("writing report.md"))?;
    Ok(())
}

/// Writes sweep.json atomically (temp file + rename), so a reader or a Ctrl-C never sees half.
pub fn write_json(record: &SweepRecord, dir: &Path) -> Result<(), Error> {
    let tmp = dir.join(".sweep.json.tmp");
    let text = serde_json::to_string_pretty(record).map_err(|source| Error::Json {
        what: "encoding sweep.json".into(),
        source,
    })?;
    std::fs::write(&tmp, text + "\n").map_err(Error::io("writing sweep.json"))?;
    std::fs::rename(&tmp, dir.join("sweep.json")).map_err(Error::io("writing sweep.json"))?;
    Ok(())
}

/// Column names of sweep.csv, in order.
pub const CSV_HEADER: &[&str] = &[
    "index",
    "id",
    "transport",
    "clients",
    "rate",
    "poll_interval_s",
    "action_rate",
    "repetition",
    "seed",
    "status",
    "complete",
    "saturated",
    "clients_receiving",
    "duration_s",
    "delivered",
    "deliveries_per_s",
    "latency_p50_us",
    "latency_p90_us",
    "latency_p99_us",
    "latency_p999_us",
    "latency_max_us",
    "latency_mean_us",
    "floor_p50_us",
    "floor_p99_us",
    "requests",
    "requests_per_tick",
    "empty_responses",
    "empty_pct",
    "bytes",
    "bytes_per_tick",
    "server_cpu_s",
    "server_cpu_us_per_tick",
    "loadgen_cpu_s",
    "gaps",
    "duplicates",
    "out_of_order",
    "loss",
    "gap_notices",
    "errors",
    "reconnects",
    "server_rss_bytes",
    "loadgen_rss_bytes",
    "dir",
    "error",
];

/// One row per started cell; fields a cell did not measure are empty.
pub fn csv(record: &SweepRecord) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for c in &record.cells {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let mut f: Vec<String> = vec![
            c.cell.index.to_string(),
            c.cell.id.clone(),
            c.cell.transport.name().into(),
            opt(c.cell.clients.map(|v| v.to_string())),
            opt(c.cell.rate.map(|v| v.to_string())),
            opt(c.cell.poll_interval.map(|v| v.as_secs_f64().to_string())),
            opt(c.cell.action_rate.map(|v| v.to_string())),
            c.cell.repetition.to_string(),
            c.cell.seed.to_string(),
            status_str(c.status).into(),
        ];
        match (c.phase(), c.summary.as_ref()) {
            (Some(p), Some(s)) => {
                let l = &p.latency_us;
                f.extend([
                    s.complete.to_string(),
                    p.saturated.to_string(),
                    p.clients_receiving.to_string(),
                    p.duration_s.to_string(),
                    p.delivered.to_string(),
                    p.deliveries_per_s().to_string(),
                    l.p50.to_string(),
                    l.p90.to_string(),
                    l.p99.to_string(),
                    l.p999.to_string(),
                    l.max.to_string(),
                    l.mean.to_string(),
                    s.floor_us.p50.to_string(),
                    s.floor_us.p99.to_string(),
                    p.requests.to_string(),
                    p.requests_per_tick().to_string(),
                    p.empty_responses.to_string(),
                    p.empty_pct().to_string(),
                    p.bytes.to_string(),
                    p.bytes_per_tick().to_string(),
                    p.server_cpu_s.to_string(),
                    p.server_cpu_us_per_tick().to_string(),
                    p.loadgen_cpu_s.to_string(),
                    p.gaps.to_string(),
                    p.duplicates.to_string(),
                    p.out_of_order.to_string(),
                    p.loss().to_string(),
                    p.gap_notices.to_string(),
                    p.error_count().to_string(),
                    p.reconnects.to_string(),
                    p.server_rss_bytes.to_string(),
                    p.loadgen_rss_bytes.to_string(),
                ]);
            }
            _ => f.extend(std::iter::repeat_n(String::new(), 32)),
        }
        f.push(opt(c.dir.clone()));
        f.push(opt(c.error.clone()));
        rows.push(f);
    }
    // Quoting (RFC 4180) is the csv crate's; writing to a Vec cannot fail.
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_HEADER);
    for row in rows {
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn status_str(s: CellStatus) -> &'static str {
    match s {
        CellStatus::Done => "done",
        CellStatus::Interrupted => "interrupted",
        CellStatus::Failed => "failed",
    }
}

/// One field as sweep.csv writes it (RFC 4180: quoted when it holds a comma, quote or line
/// break, quotes doubled), by the same csv writer.
pub fn csv_field(v: &str) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record([v]);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

/// report.md.
pub fn markdown(record: &SweepRecord, pts: &[Point], charts: &[Chart]) -> String {
    let e = &record.experiment;
    let mut s = String::new();
    let _ = writeln!(s, "# Experiment `{}`\n", e.name);
    let _ = writeln!(s, "> **Claim:** {}\n", e.claim);
    if !e.description.is_empty() {
        let _ = writeln!(s, "{}\n", e.description.trim());
    }
    let done = record
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Done)
        .count();
    if !record.complete {
        let _ = writeln!(
            s,
            "**INCOMPLETE:** {} of {} cells finished{}. The figures below cover only those; \
             `sweep.json` lists which ran.\n",
            done,
            record.cells_planned,
            if record.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(s, "## Verdict\n");
    match &record.verdict {
        Some(v) => {
            let _ = writeln!(
                s,
                "**Verdict: the claim {} on this run.** {}\n",
                v.outcome.as_str(),
                v.paragraph
            );
        }
        None => {
            let _ = writeln!(
                s,
                "This experiment names no `[verdict]` check; read the table and charts.\n"
            );
        }
    }
    let _ = writeln!(s, "## Setup\n");
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "default".to_string()
        } else {
            v.join(", ")
        }
    };
    let _ = writeln!(
        s,
        "| | |\n|---|---|\n| transports | {} |\n| clients | {} |\n| tick rate (ticks/s) | {} |\n\
         | poll interval | {} |\n| action rate (/s) | {} |\n| per cell | ramp {}, warm-up {}, measured {} |\n\
         | watch (symbols per client) | {} |\n| long-poll timeout | {} |\n\
         | seed, repetitions | {}, {} |\n| server | {} |\n| started | {} |\n| cells | {} planned, {} done |\n",
        e.transports.0.iter().map(|t| t.name()).collect::<Vec<_>>().join(", "),
        list(e.clients.iter().map(|c| c.0.to_string()).collect()),
        list(e.rate.iter().map(|r| fmt_num(r.0)).collect()),
        list(e.poll_interval.iter().map(|d| fmt_dur(d.0)).collect()),
        list(e.action_rate.iter().map(|r| fmt_num(r.0)).collect()),
        fmt_dur(e.ramp.0),
        fmt_dur(e.warmup.0),
        fmt_dur(e.duration.0),
        e.watch
            .map(|w| w.to_string())
            .unwrap_or_else(|| "default".into()),
        e.longpoll_timeout
            .map(|t| fmt_dur(t.0))
            .unwrap_or_else(|| "default".into()),
        e.seed,
        e.repetitions.0,
        record
            .target
            .as_deref()
            .map(|t| format!("`{t}` (shared by every cell)"))
            .unwrap_or_else(|| "fresh embedded server per cell".into()),
        record.started_at,
        record.cells_planned,
        done,
    );
    if record.quick {
        let _ = writeln!(
            s,
            "_Run with `--quick`: durations were shrunk for a smoke test; do not read the numbers._\n"
        );
    }
    let _ = writeln!(s, "## Results\n");
    if pts.is_empty() {
        let _ = writeln!(s, "No cell measured anything.\n");
    } else {
        let _ = writeln!(
            s,
            "Medians over repetitions. Latency is end-to-end from the tick's scheduled time; the \
             floor is half a loopback round trip measured in the same cell.\n"
        );
        let _ = writeln!(
            s,
            "| point | p50 | p99 | floor p50 | req/tick | empty % | bytes/tick | server CPU µs/tick | req/s/client | loss | errors | notes |"
        );
        let _ = writeln!(
            s,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        );
        for p in pts {
            let mut notes = Vec::new();
            if p.saturated {
                notes.push("SATURATED".to_string());
            }
            if p.incomplete {
                notes.push("partial".to_string());
            }
            if p.clients_receiving < p.clients_asked {
                notes.push(format!(
                    "{}/{} clients served",
                    p.clients_receiving, p.clients_asked
                ));
            }
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.3} | {:.1} | {:.0} | {:.2} | {:.2} | {} | {} | {} |",
                p.label(),
                fmt_us(p.p50_us),
                fmt_us(p.p99_us),
                fmt_us(p.floor_p50_us),
                p.requests_per_tick,
                p.empty_pct,
                p.bytes_per_tick,
                p.server_cpu_us_per_tick,
                p.requests_per_s_per_client,
                p.loss,
                p.errors,
                notes.join(", ")
            );
        }
        let _ = writeln!(s);
    }
    let failed: Vec<String> = record
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Failed)
        .map(|c| {
            format!(
                "- `{}`: {}",
                c.cell.id,
                c.error.as_deref().unwrap_or("unknown error")
            )
        })
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(s, "### Failed cells\n\n{}\n", failed.join("\n"));
    }
    if !charts.is_empty() {
        let _ = writeln!(s, "## Charts\n");
        for c in charts {
            let _ = writeln!(s, "### {}\n\n![{}](charts/{})\n", c.title, c.title, c.file);
        }
    }
    let _ = writeln!(
        s,
        "## Files\n\n- `sweep.json`: every cell with its full summary; `sweep.csv`: one row per cell\n\
         - `cells/<id>/`: each cell's `summary.json` and `.hgrm` latency histograms\n\
         - gate a later run against this one: `tickbench compare <this folder> <other sweep folder>`"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Experiment;
    use crate::record::test_support::*;
    use crate::record::{CellRecord, SWEEP_KIND, SWEEP_SCHEMA};
    use tickbench_wire::Transport;

    fn record(cells: Vec<CellRecord>) -> SweepRecord {
        let exp = Experiment::parse(
            "name = \"t\"\nclaim = \"c\"\ntransports = [\"sse\"]\nclients = [100, 1000]\nduration = \"1s\"\n[verdict]\nkind = \"scale\"\n",
            "t.toml",
        )
        .unwrap();
        SweepRecord {
            kind: SWEEP_KIND.into(),
            schema: SWEEP_SCHEMA,
            summary_schema: tickbench_wire::SCHEMA_VERSION,
            tickbench_version: "0".into(),
            experiment: exp,
            started_at: "now".into(),
            finished_at: None,
            complete: false,
            interrupted: true,
            target: None,
            quick: false,
            cells_planned: 3,
            cells,
            verdict: None,
        }
    }

    #[test]
    fn csv_has_a_row_per_cell_and_quotes_errors() {
        let mut failed = cell(1, mk_cell(Transport::Sse), phase("sse"));
        failed.summary = None;
        failed.status = CellStatus::Failed;
        failed.error = Some("server said \"no\", twice".into());
        let r = record(vec![cell(0, mk_cell(Transport::Sse), phase("sse")), failed]);
        let text = csv(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].split(',').count(), CSV_HEADER.len());
        assert_eq!(lines[1].split(',').count(), CSV_HEADER.len());
        let col = |name: &str| CSV_HEADER.iter().position(|h| *h == name).unwrap();
        let row: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(row[col("requests_per_tick")], "0.05");
        assert_eq!(row[col("loss")], "0");
        assert_eq!(row[col("status")], "done");
        assert!(
            lines[2].ends_with(",\"server said \"\"no\"\", twice\""),
            "{}",
            lines[2]
        );
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn report_marks_incomplete_and_writes_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut big = mk_cell(Transport::Sse);
        big.clients = Some(1000);
        big.id = "sse-c1000".into();
        let mut p = phase("sse");
        p.clients = 1000;
        p.clients_receiving = 1000;
        let mut r = record(vec![
            cell(0, mk_cell(Transport::Sse), phase("sse")),
            cell(1, big, p),
        ]);
        write_all(&mut r, dir.path()).unwrap();
        for f in [
            "sweep.json",
            "sweep.csv",
            "report.md",
            "charts/latency_vs_clients.svg",
        ] {
            assert!(dir.path().join(f).is_file(), "{f}");
        }
        let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        assert!(md.contains("**INCOMPLETE:** 2 of 3 cells"), "{md}");
        assert!(
            md.contains("**Verdict: the claim held on this run.**"),
            "{md}"
        );
        assert!(md.contains("![Latency"), "{md}");
        let back: SweepRecord =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("sweep.json")).unwrap())
                .unwrap();
        assert!(!back.complete);
        assert_eq!(back.cells.len(), 2);
        assert!(back.verdict.is_some());
    }
}
