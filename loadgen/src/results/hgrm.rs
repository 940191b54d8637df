//! HdrHistogram's percentile-distribution text (`.hgrm`), byte for byte as Java HdrHistogram's
//! `outputPercentileDistribution(out, 5, 1000.0)` writes it, so the files open in the usual plotters
//! (HdrHistogram's web plotter, `hdr-plot`, …). The `hdrhistogram` crate has no writer for it.
//!
//! The histograms record microseconds; the files carry **milliseconds** (output value unit scaling
//! ratio 1000), as wrk2 writes them and as the plotters label their axis. `summary.json` says so
//! (`hgrm_unit: "ms"`); files from before that field hold microseconds.
//!
//! The rows follow Java's `PercentileIterator`: percentile levels advance in equal ticks, five per
//! half-distance to 100 % (0, 10, 20, …, 50, 55, …, 75, 77.5, …), computed in percent as Java does
//! so the printed levels match to the last digit, and a final row at 100 %.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// Ticks per half-distance to 100 %, Java's default.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Output value unit scaling ratio of the files a run writes: recorded µs / 1000 = ms.
pub const MS_SCALING_RATIO: f64 = 1000.0;

/// Renders `h` as `.hgrm` text, every value (rows, mean, deviation, max) divided by
/// `scaling_ratio` as Java's `outputValueUnitScalingRatio` does.
pub fn hgrm_string(h: &Histogram<u64>, scaling_ratio: f64) -> String {
    let digits = h.sigfig() as usize;
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    for row in percentile_rows(h, TICKS_PER_HALF_DISTANCE) {
        let level = row.percentile / 100.0;
        if row.percentile != 100.0 {
            let _ = writeln!(
                out,
                "{:>12.digits$} {:>2.12} {:>10} {:>14.2}",
                row.value as f64 / scaling_ratio,
                level,
                row.total,
                1.0 / (1.0 - level),
            );
        } else {
            let _ = writeln!(
                out,
                "{:>12.digits$} {:>2.12} {:>10}",
                row.value as f64 / scaling_ratio,
                level,
                row.total
            );
        }
    }
    let (mean, stdev) = mean_stdev(h);
    let _ = writeln!(
        out,
        "#[Mean    = {:>12.digits$}, StdDeviation   = {:>12.digits$}]",
        mean / scaling_ratio,
        stdev / scaling_ratio
    );
    let max = if h.is_empty() { 0 } else { h.max() };
    let _ = writeln!(
        out,
        "#[Max     = {:>12.digits$}, Total count    = {:>12}]",
        max as f64 / scaling_ratio,
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        sub_bucket_count(h.sigfig())
    );
    out
}

/// Writes `h` (µs) as `.hgrm` in milliseconds to `path`.
pub fn write_hgrm(path: &std::path::Path, h: &Histogram<u64>) -> std::io::Result<()> {
    std::fs::write(path, hgrm_string(h, MS_SCALING_RATIO))
}

/// One row: the value reached, the percentile level iterated to, the count up to the value.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    value: u64,
    percentile: f64,
    total: u64,
}

/// Java's `PercentileIterator` over the recorded values. The iterator stays on a value while the
/// cumulative percentile at it is at or above the next level (emitting one row per level), except at
/// the last recorded value, which emits one row and then the final 100 % row.
fn percentile_rows(h: &Histogram<u64>, ticks_per_half: u32) -> Vec<Row> {
    let total = h.len();
    let mut rows = Vec::new();
    if total == 0 {
        return rows;
    }
    let mut level = 0.0_f64;
    let mut running = 0_u64;
    let mut last_value = 0;
    for v in h.iter_recorded() {
        let count = v.count_at_value();
        running += count;
        last_value = v.value_iterated_to();
        let pct = 100.0 * running as f64 / total as f64;
        while pct >= level {
            rows.push(Row {
                value: last_value,
                percentile: level,
                total: running,
            });
            level = next_level(level, ticks_per_half);
            if running == total {
                break;
            }
        }
    }
    rows.push(Row {
        value: last_value,
        percentile: 100.0,
        total,
    });
    rows
}

/// Java: `ticks = ticksPerHalf * 2^(floor(log2(100 / (100 - level))) + 1); level += 100 / ticks`.
fn next_level(level: f64, ticks_per_half: u32) -> f64 {
    let halvings = ((100.0 / (100.0 - level)).ln() / 2f64.ln()) as i64 + 1;
    let ticks = ticks_per_half as f64 * 2f64.powi(halvings.min(1000) as i32);
    level + 100.0 / ticks
}

/// Mean and standard deviation summed in Java's order (total first, one division), so the
/// footer matches Java's to the printed digit; the crate divides per term.
fn mean_stdev(h: &Histogram<u64>) -> (f64, f64) {
    let n = h.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let total: f64 = h
        .iter_recorded()
        .map(|v| h.median_equivalent(v.value_iterated_to()) as f64 * v.count_at_value() as f64)
        .sum();
    let mean = total / n as f64;
    let dev: f64 = h
        .iter_recorded()
        .map(|v| {
            let d = h.median_equivalent(v.value_iterated_to()) as f64 - mean;
            d * d * v.count_at_value() as f64
        })
        .sum();
    (mean, (dev / n as f64).sqrt())
}

/// Java's `subBucketCount`: 2^ceil(log2(2 × 10^sigfig)).
fn sub_bucket_count(sigfig: u8) -> u64 {
    let largest_single_unit = 2 * 10u64.pow(sigfig as u32);
    largest_single_unit.next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected text of HdrHistogram's JS port test suite ("should compute percentile
    /// distribution"), itself checked against Java's output: 25, 50, 75 in a (1, 2^53-1, 3)
    /// histogram.
    const KNOWN_GOOD: &str = "       Value     Percentile TotalCount 1/(1-Percentile)

      25.000 0.000000000000          1           1.00
      25.000 0.100000000000          1           1.11
      25.000 0.200000000000          1           1.25
      25.000 0.300000000000          1           1.43
      50.000 0.400000000000          2           1.67
      50.000 0.500000000000          2           2.00
      50.000 0.550000000000          2           2.22
      50.000 0.600000000000          2           2.50
      50.000 0.650000000000          2           2.86
      75.000 0.700000000000          3           3.33
      75.000 1.000000000000          3
#[Mean    =       50.000, StdDeviation   =       20.412]
#[Max     =       75.000, Total count    =            3]
#[Buckets =           43, SubBuckets     =         2048]
";

    #[test]
    fn matches_the_reference_output() {
        let mut h = Histogram::<u64>::new_with_bounds(1, (1 << 53) - 1, 3).unwrap();
        for v in [25, 50, 75] {
            h.record(v).unwrap();
        }
        assert_eq!(hgrm_string(&h, 1.0), KNOWN_GOOD);
    }

    /// Java's `outputPercentileDistribution(out, 5, 1000.0)` of the same histogram: every value
    /// (rows and footer) divided by the ratio, levels and counts unchanged.
    const KNOWN_GOOD_SCALED: &str = "       Value     Percentile TotalCount 1/(1-Percentile)

       0.025 0.000000000000          1           1.00
       0.025 0.100000000000          1           1.11
       0.025 0.200000000000          1           1.25
       0.025 0.300000000000          1           1.43
       0.050 0.400000000000          2           1.67
       0.050 0.500000000000          2           2.00
       0.050 0.550000000000          2           2.22
       0.050 0.600000000000          2           2.50
       0.050 0.650000000000          2           2.86
       0.075 0.700000000000          3           3.33
       0.075 1.000000000000          3
#[Mean    =        0.050, StdDeviation   =        0.020]
#[Max     =        0.075, Total count    =            3]
#[Buckets =           43, SubBuckets     =         2048]
";

    #[test]
    fn scaling_ratio_divides_every_value() {
        let mut h = Histogram::<u64>::new_with_bounds(1, (1 << 53) - 1, 3).unwrap();
        for v in [25, 50, 75] {
            h.record(v).unwrap();
        }
        assert_eq!(hgrm_string(&h, 1000.0), KNOWN_GOOD_SCALED);
    }

    /// What a run writes: microseconds recorded, milliseconds in the file (wrk2's convention),
    /// so 1,500 µs reads as 1.500 in the Value column and in the footer.
    #[test]
    fn run_files_are_in_milliseconds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sse.hgrm");
        let mut h = crate::stats::new_histogram();
        h.record(1_500).unwrap();
        write_hgrm(&path, &h).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .nth(2)
                .unwrap()
                .starts_with("       1.500 0.000000000000"),
            "{text}"
        );
        assert!(text.contains("#[Max     =        1.500,"), "{text}");
    }

    #[test]
    fn run_histogram_layout() {
        let mut h = crate::stats::new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 10).unwrap();
        }
        let text = hgrm_string(&h, 1.0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        assert!(
            lines.iter().any(|l| l.contains(" 0.990625000000 ")),
            "{text}"
        );
        let last_row = lines[lines.len() - 4];
        assert!(
            last_row.ends_with(" 1.000000000000      10000"),
            "{last_row}"
        );
        assert!(text.ends_with("#[Buckets =           16, SubBuckets     =         2048]\n"));
        // Levels never go backwards and counts never decrease.
        let mut prev = (0.0, 0u64);
        for l in &lines[2..lines.len() - 3] {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (p, c): (f64, u64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
            assert!(p >= prev.0 && c >= prev.1, "{l}");
            prev = (p, c);
        }
    }

    #[test]
    fn empty_histogram_has_only_header_and_footer() {
        let text = hgrm_string(&crate::stats::new_histogram(), MS_SCALING_RATIO);
        assert_eq!(text.lines().count(), 5, "{text}");
    }
}
