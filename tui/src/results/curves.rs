//! A run's latency-by-percentile curves: parsed from HdrHistogram's `.hgrm` percentile files when
//! the results folder has them, else the six percentiles `summary.json` stores.

use std::path::{Path, PathBuf};

use tickbench_wire::TransportSummary;

/// `(file stem, path)` of every `.hgrm` in `dir`.
pub fn hgrm_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "hgrm"))
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p)))
        .collect();
    v.sort();
    v
}

/// True when a file stem names transport `name`: `sse`, `latency-sse`, `sse_latency`; but not
/// `longpoll` for `poll`.
pub fn stem_names(stem: &str, name: &str) -> bool {
    stem.split(['-', '_', '.']).any(|part| part == name)
}

/// Parses HdrHistogram's percentile-distribution text (`Value Percentile TotalCount 1/(1-P)`
/// columns; `#` lines and headers skipped) into `(quantile, µs)` points. Percentiles written as
/// percent (0–100) are accepted too.
pub fn parse_hgrm(text: &str) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64, f64)> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let v: f64 = it.next()?.parse().ok()?;
            let q: f64 = it.next()?.parse().ok()?;
            let n: f64 = it.next().and_then(|n| n.parse().ok()).unwrap_or(0.0);
            (v.is_finite() && q.is_finite()).then_some((q, v, n))
        })
        .collect();
    if pts.iter().any(|&(q, ..)| q > 1.0) {
        for p in &mut pts {
            p.0 /= 100.0;
        }
    }
    let mut pts: Vec<(f64, f64)> = pts
        .into_iter()
        .map(|(q, v, n)| {
            // The 100 % row is the max: place it at the last sample's quantile (1 - 1/count)
            // rather than at the right edge of the nines axis.
            if q >= 1.0 && n > 1.0 {
                (1.0 - 1.0 / n, v)
            } else {
                (q, v)
            }
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// The curve the summary alone gives: min, p50, p90, p99, p99.9 and max (placed at the last
/// sample's quantile, 1 − 1/n).
pub fn summary_curve(t: &TransportSummary) -> Vec<(f64, f64)> {
    let l = &t.latency_us;
    if l.max == 0 {
        return Vec::new();
    }
    let last_q = if t.delivered > 1 {
        1.0 - 1.0 / t.delivered as f64
    } else {
        0.999
    };
    let mut v = vec![
        (0.0, l.min as f64),
        (0.5, l.p50 as f64),
        (0.9, l.p90 as f64),
        (0.99, l.p99 as f64),
        (0.999, l.p999 as f64),
    ];
    v.retain(|p| p.0 < last_q);
    v.push((last_q, l.max as f64));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hgrm_text_is_parsed() {
        let t = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
                 \x20    100.000 0.000000000000          1           1.00\n\
                 \x20    250.000 0.500000000000        500           2.00\n\
                 \x20   9000.000 1.000000000000       1000\n\
                 #[Mean    =      300.000, StdDeviation   =       50.000]\n";
        assert_eq!(
            parse_hgrm(t),
            vec![(0.0, 100.0), (0.5, 250.0), (0.999, 9000.0)]
        );
        assert_eq!(parse_hgrm("50.0 99.0\n"), vec![(0.99, 50.0)]);
    }

    #[test]
    fn file_stems_match_whole_words() {
        assert!(stem_names("sse", "sse"));
        assert!(stem_names("latency-sse", "sse"));
        assert!(!stem_names("longpoll", "poll"));
    }
}
