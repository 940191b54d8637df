//! `latency.hlog`: HdrHistogram's interval log, one V2-compressed histogram per transport per
//! measured second, tagged with the transport's name. HdrHistogram's tools (HistogramLogAnalyzer,
//! `HistogramLogProcessor`, the Rust crate's `IntervalLogIterator`) read it back, so any window of
//! any phase can be re-examined without the load generator ever keeping a raw sample.
//!
//! The histograms hold microseconds; the `Interval_Max` column is in milliseconds (max-value
//! divisor 1000), like the `.hgrm` files. Read it with, e.g.,
//! `java -cp HdrHistogram.jar org.HdrHistogram.HistogramLogProcessor -i latency.hlog -tag sse
//! -outputValueUnitRatio 1000` (values in ms; `-listtags` lists the transports).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use crate::error::Error;

/// `Interval_Max` = recorded max (µs) / this = milliseconds, as HistogramLogProcessor prints with
/// `-outputValueUnitRatio 1000`.
pub const MAX_VALUE_DIVISOR: f64 = 1000.0;

/// An interval log being written, one interval at a time, as the run measures.
pub struct HlogWriter {
    /// Where it is written, for error messages.
    path: PathBuf,
    file: BufWriter<File>,
    serializer: V2DeflateSerializer,
    /// Run start: interval timestamps are seconds since it.
    start: SystemTime,
}

impl std::fmt::Debug for HlogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlogWriter").finish_non_exhaustive()
    }
}

impl HlogWriter {
    /// Creates `path` and writes the log's header (format version, start and base time, legend).
    pub fn create(path: &Path, start: SystemTime) -> Result<HlogWriter, Error> {
        let file = File::create(path).map_err(Error::write(path))?;
        let mut w = HlogWriter {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
            serializer: V2DeflateSerializer::new(),
            start,
        };
        w.header(start).map_err(Error::write(path))?;
        Ok(w)
    }

    /// The log's header lines.
    fn header(&mut self, start: SystemTime) -> std::io::Result<()> {
        let w = self;
        IntervalLogWriterBuilder::new()
            .add_comment("[Histogram log format version 1.3]")
            .add_comment(
                "[tickbench end-to-end tick latency: histogram values in microseconds, Interval_Max in milliseconds; tag = transport]",
            )
            .with_max_value_divisor(MAX_VALUE_DIVISOR)
            .with_start_time(start)
            .with_base_time(start)
            .begin_log_with(&mut w.file, &mut w.serializer)?;
        writeln!(
            w.file,
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        )
    }

    /// Appends one interval that began at `at` and lasted `length`.
    pub fn append(
        &mut self,
        tag: &str,
        at: SystemTime,
        length: Duration,
        h: &Histogram<u64>,
    ) -> Result<(), Error> {
        let offset = at.duration_since(self.start).unwrap_or_default();
        let mut buf = Vec::with_capacity(1024);
        {
            let mut log = IntervalLogWriterBuilder::new()
                .with_max_value_divisor(MAX_VALUE_DIVISOR)
                .begin_log_with(&mut buf, &mut self.serializer)
                .map_err(Error::write(&self.path))?;
            log.write_histogram(h, offset, length, Tag::new(tag))
                .map_err(|e| Error::write(&self.path)(std::io::Error::other(format!("{e:?}"))))?;
        }
        // The crate's writer repeats the divisor comment each time it begins; the header has it
        // once, which is where HdrHistogram's readers look.
        for line in buf.split_inclusive(|&b| b == b'\n') {
            if !line.starts_with(b"#[MaxValueDivisor") {
                self.file
                    .write_all(line)
                    .map_err(Error::write(&self.path))?;
            }
        }
        Ok(())
    }

    /// Flushes the log to disk.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.file.flush().map_err(Error::write(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;

    #[test]
    fn intervals_read_back_with_tags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.hlog");
        let start = SystemTime::now();
        let mut w = HlogWriter::create(&path, start).unwrap();
        let mut h = crate::stats::new_histogram();
        for v in [100, 200, 300_000] {
            h.record(v).unwrap();
        }
        w.append(
            "poll",
            start + Duration::from_secs(1),
            Duration::from_secs(1),
            &h,
        )
        .unwrap();
        w.append(
            "sse",
            start + Duration::from_secs(2),
            Duration::from_secs(1),
            &h,
        )
        .unwrap();
        w.flush().unwrap();

        let bytes = std::fs::read(&path).unwrap();
        let mut tags = Vec::new();
        for entry in IntervalLogIterator::new(&bytes) {
            if let LogEntry::Interval(i) = entry.unwrap() {
                tags.push(i.tag().unwrap().as_str().to_string());
                let decoded = base64_decode(i.encoded_histogram());
                let back: Histogram<u64> = Deserializer::new()
                    .deserialize(&mut decoded.as_slice())
                    .unwrap();
                assert_eq!(back.len(), 3);
                assert_eq!(back.max(), h.max());
            }
        }
        assert_eq!(tags, vec!["poll", "sse"]);
        // Interval_Max is the max (300,000 µs, as the histogram holds it: 300,031) in ms.
        let text = String::from_utf8_lossy(&bytes);
        let row = text.lines().find(|l| l.starts_with("Tag=sse,")).unwrap();
        let want = format!("{:.3}", h.max() as f64 / 1000.0);
        assert_eq!(row.split(',').nth(3), Some(want.as_str()), "{row}");
        assert!(want.starts_with("300."), "{want}");
        assert_eq!(
            text.matches("#[MaxValueDivisor: 1000.000]").count(),
            1,
            "{text}"
        );
    }

    /// Minimal standard base64 decoder for the test (the crate encodes with the standard alphabet).
    fn base64_decode(s: &str) -> Vec<u8> {
        const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        let mut buf = 0u32;
        let mut bits = 0;
        for c in s.bytes().filter(|&c| c != b'=') {
            let v = ALPHA.iter().position(|&a| a == c).unwrap() as u32;
            buf = (buf << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buf >> bits) as u8);
                buf &= (1 << bits) - 1;
            }
        }
        out
    }
}
