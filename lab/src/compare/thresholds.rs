//! The gate's tolerances, layered: defaults < thresholds file < its per-transport table < flags.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::BadInput;
use super::opts::CompareOpts;

/// Tolerances of the gate; see the module docs for what each bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub requests_per_tick: f64,
    pub empty_pct: f64,
    pub bytes_per_tick: f64,
    pub latency: f64,
    /// Like `latency`, for p99 of the push transports.
    pub latency_p99: f64,
    /// Push transports' p50 as a multiple of the same run's fan-out floor p50.
    pub fanout: f64,
    pub schedule_latency: f64,
    pub absolute: f64,
    pub max_loss: u64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            requests_per_tick: 0.15,
            empty_pct: 5.0,
            bytes_per_tick: 0.10,
            latency: 2.0,
            latency_p99: 4.0,
            fanout: 0.35,
            schedule_latency: 0.5,
            absolute: 0.5,
            max_loss: 0,
        }
    }
}

/// Some tolerances, as a thresholds file or the flags give them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialTolerances {
    requests_per_tick: Option<f64>,
    empty_pct: Option<f64>,
    bytes_per_tick: Option<f64>,
    latency: Option<f64>,
    latency_p99: Option<f64>,
    fanout: Option<f64>,
    schedule_latency: Option<f64>,
    absolute: Option<f64>,
    max_loss: Option<u64>,
}

impl PartialTolerances {
    fn apply(&self, t: &mut Tolerances) {
        let set = |dst: &mut f64, src: Option<f64>| {
            if let Some(v) = src {
                *dst = v;
            }
        };
        set(&mut t.requests_per_tick, self.requests_per_tick);
        set(&mut t.empty_pct, self.empty_pct);
        set(&mut t.bytes_per_tick, self.bytes_per_tick);
        set(&mut t.latency, self.latency);
        set(&mut t.latency_p99, self.latency_p99);
        set(&mut t.fanout, self.fanout);
        set(&mut t.schedule_latency, self.schedule_latency);
        set(&mut t.absolute, self.absolute);
        if let Some(v) = self.max_loss {
            t.max_loss = v;
        }
    }

    fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("requests_per_tick", self.requests_per_tick),
            ("empty_pct", self.empty_pct),
            ("bytes_per_tick", self.bytes_per_tick),
            ("latency", self.latency),
            ("latency_p99", self.latency_p99),
            ("fanout", self.fanout),
            ("schedule_latency", self.schedule_latency),
            ("absolute", self.absolute),
        ] {
            if let Some(v) = v {
                if !v.is_finite() || v < 0.0 {
                    return Err(format!("{name} must be a finite number >= 0, got {v}"));
                }
            }
        }
        Ok(())
    }
}

/// The thresholds file: top-level defaults plus `[transport.<name>]` overrides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsFile {
    requests_per_tick: Option<f64>,
    empty_pct: Option<f64>,
    bytes_per_tick: Option<f64>,
    latency: Option<f64>,
    latency_p99: Option<f64>,
    fanout: Option<f64>,
    schedule_latency: Option<f64>,
    absolute: Option<f64>,
    max_loss: Option<u64>,
    #[serde(default)]
    transport: BTreeMap<String, PartialTolerances>,
}

/// Resolved tolerances: defaults < file < file's per-transport table < flags.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    base: Tolerances,
    per: BTreeMap<String, PartialTolerances>,
    flags: PartialTolerances,
}

impl Thresholds {
    /// Tolerances for one phase key (transport name or cell id; a cell id also matches the
    /// `[transport.<its transport>]` table).
    pub fn for_key(&self, key: &str, transport: &str) -> Tolerances {
        let mut t = self.base;
        if let Some(p) = self.per.get(transport) {
            p.apply(&mut t);
        }
        if key != transport {
            if let Some(p) = self.per.get(key) {
                p.apply(&mut t);
            }
        }
        self.flags.apply(&mut t);
        t
    }

    pub fn load(opts: &CompareOpts) -> Result<Thresholds, BadInput> {
        let mut th = Thresholds::default();
        if let Some(path) = &opts.thresholds {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| BadInput::Thresholds {
                path: shown.clone(),
                message: e.to_string(),
            })?;
            let file: ThresholdsFile = toml::from_str(&text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                    .unwrap_or(1);
                BadInput::Thresholds {
                    path: format!("{shown}:{line}"),
                    message: e.message().trim().to_string(),
                }
            })?;
            let top = PartialTolerances {
                requests_per_tick: file.requests_per_tick,
                empty_pct: file.empty_pct,
                bytes_per_tick: file.bytes_per_tick,
                latency: file.latency,
                latency_p99: file.latency_p99,
                fanout: file.fanout,
                schedule_latency: file.schedule_latency,
                absolute: file.absolute,
                max_loss: file.max_loss,
            };
            for p in std::iter::once(&top).chain(file.transport.values()) {
                p.check().map_err(|message| BadInput::Thresholds {
                    path: shown.clone(),
                    message,
                })?;
            }
            top.apply(&mut th.base);
            th.per = file.transport;
        }
        th.flags = PartialTolerances {
            requests_per_tick: opts.tol_requests_per_tick,
            empty_pct: opts.tol_empty_pct,
            bytes_per_tick: opts.tol_bytes_per_tick,
            latency: opts.tol_latency,
            latency_p99: opts.tol_latency_p99,
            fanout: opts.tol_fanout,
            schedule_latency: opts.tol_schedule_latency,
            absolute: opts.tol_absolute,
            max_loss: opts.max_loss,
        };
        for (flag, v) in [
            ("tol-requests-per-tick", opts.tol_requests_per_tick),
            ("tol-empty-pct", opts.tol_empty_pct),
            ("tol-bytes-per-tick", opts.tol_bytes_per_tick),
            ("tol-latency", opts.tol_latency),
            ("tol-latency-p99", opts.tol_latency_p99),
            ("tol-fanout", opts.tol_fanout),
            ("tol-schedule-latency", opts.tol_schedule_latency),
            ("tol-absolute", opts.tol_absolute),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err(BadInput::BadFlag(flag));
            }
        }
        Ok(th)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::compare::opts::test_opts as opts;

    #[test]
    fn thresholds_file_layers_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.toml");
        std::fs::write(
            &f,
            "empty_pct = 2\n\n[transport.poll]\nempty_pct = 8\nlatency = 0.5\n",
        )
        .unwrap();
        let o = CompareOpts {
            thresholds: Some(f.clone()),
            tol_latency: Some(3.0),
            ..opts()
        };
        let t = Thresholds::load(&o).unwrap();
        assert_eq!(t.for_key("sse", "sse").empty_pct, 2.0);
        assert_eq!(t.for_key("poll-c100", "poll").empty_pct, 8.0);
        assert_eq!(t.for_key("poll", "poll").latency, 3.0, "flags win");
        std::fs::write(&f, "empty_pct = 2\nlatncy = 1\n").unwrap();
        let e = Thresholds::load(&o).unwrap_err().to_string();
        assert!(e.contains("t.toml:2") && e.contains("latncy"), "{e}");
        std::fs::write(&f, "latency = -1\n").unwrap();
        assert!(Thresholds::load(&o).is_err());
    }

    #[test]
    fn example_thresholds_file_is_valid() {
        let o = CompareOpts {
            thresholds: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("thresholds.example.toml")),
            ..opts()
        };
        let t = Thresholds::load(&o).unwrap();
        assert_eq!(t.for_key("sse", "sse"), Tolerances::default());
        assert_eq!(t.for_key("piggyback", "piggyback").schedule_latency, 1.0);
    }
}
