//! The browser section of `report.md`: each technique as headless Chromium measured it in the page
//! (`tickbench browser`, `tickbench run --browser`), and the compare view's stalled streams.

use std::fmt::Write as _;

use tickbench_wire::{BrowserSection, Summary};

/// `report.md` of a run that measured only the browser (`tickbench browser`).
pub fn render_browser_report(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# tickbench browser run `{}`\n", summary.label);
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
    if let Some(b) = &summary.browser {
        out.push_str(&render_browser_section(b));
    }
    out
}

/// The `## In the browser` section: one row per technique, then the compare view.
pub fn render_browser_section(b: &BrowserSection) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## In the browser ({})\n\nEach technique in its own page at {} in headless {}, {} symbols. Latency is the page's clock at parse time − the tick's scheduled time (same machine, same clock), from a log-bucket histogram in the page (≈3% resolution). Loss (gaps + duplicates + out-of-order) must be 0.\n",
        b.techniques.first().map_or("", |t| t.protocol.as_str()),
        b.url,
        b.browser,
        b.symbols
    );
    let _ = writeln!(
        out,
        "| technique | delivered | gaps | dups | out of order | gap notices | reconnects | requests | bytes | errors | p50 ms | p99 ms | max ms | screenshot |"
    );
    let _ = writeln!(
        out,
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
    );
    for t in &b.techniques {
        let shot = t
            .screenshot
            .as_deref()
            .map_or(String::new(), |s| format!("[png]({s})"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {} |",
            t.name,
            t.delivered,
            t.gaps,
            t.duplicates,
            t.out_of_order,
            t.gap_notices,
            t.reconnects,
            t.requests,
            t.bytes,
            t.errors,
            t.latency_us.p50 as f64 / 1000.0,
            t.latency_us.p99 as f64 / 1000.0,
            t.latency_us.max as f64 / 1000.0,
            shot
        );
    }
    out.push('\n');
    if let Some(c) = &b.compare {
        let _ = writeln!(
            out,
            "### Compare view ({}, {:.0} s)\n\nEvery technique at once in one page, sharing the browser's connections to one origin.",
            c.protocol, c.duration_s
        );
        if c.stalled.is_empty() {
            let _ = writeln!(out, "No technique stalled.\n");
        } else {
            let _ = writeln!(
                out,
                "Stalled (no tick for the last 5 s of the view): **{}**. Over HTTP/1.1 Chromium opens at most 6 connections per host and the held streams keep them busy.\n",
                c.stalled.join(", ")
            );
        }
        let _ = writeln!(out, "| technique | delivered |\n|---|--:|");
        for (name, n) in &c.delivered {
            let _ = writeln!(out, "| {name} | {n} |");
        }
        if let Some(s) = &c.screenshot {
            let _ = writeln!(out, "\n![compare view]({s})");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickbench_wire::{BrowserCompare, BrowserTechnique};

    #[test]
    fn one_row_per_technique_and_the_stalled_ones() {
        let b = BrowserSection {
            browser: "Chrome/156".into(),
            url: "http://127.0.0.1:1/".into(),
            symbols: 20,
            techniques: vec![BrowserTechnique {
                name: "sse".into(),
                protocol: "http/1.1".into(),
                delivered: 1234,
                screenshot: Some("browser-sse.png".into()),
                ..BrowserTechnique::default()
            }],
            compare: Some(BrowserCompare {
                protocol: "http/1.1".into(),
                stalled: vec!["poll".into()],
                ..BrowserCompare::default()
            }),
        };
        let md = render_browser_section(&b);
        assert!(md.contains("| sse | 1234 |"), "{md}");
        assert!(md.contains("[png](browser-sse.png)"), "{md}");
        assert!(md.contains("**poll**"), "{md}");
    }
}
