//! The `--chaos` specification: which faults the proxy injects, and how often.
//!
//! `reset=1%,stall=0.5%:2s,cut=0.5%,restart=30s`: each rate is the share of live connections hit
//! per second (so `reset=1%` with 2,000 connections resets about 20 of them every second); `stall`
//! carries how long a stalled connection stops forwarding; `restart` is the period of server
//! restarts (embedded server only). Keys may come in any order; each at most once.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// Default stall length when `stall=R%` has no `:duration`.
pub const DEFAULT_STALL: Duration = Duration::from_secs(2);

/// What `--chaos` asked for. Rates are fractions (0.01 = 1 %) of live connections per second.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChaosSpec {
    /// Share of connections closed abruptly (RST) per second.
    pub reset: f64,
    /// Share of connections whose forwarding stops for [`ChaosSpec::stall_for`] per second.
    pub stall: f64,
    pub stall_for: Duration,
    /// Share of connections cut in the middle of the next server→client chunk per second.
    pub cut: f64,
    /// Period of server restarts (SIGTERM, then the same server again on the same port).
    pub restart: Option<Duration>,
}

impl ChaosSpec {
    /// True when the proxy has something to do per connection.
    pub fn has_connection_faults(&self) -> bool {
        self.reset > 0.0 || self.stall > 0.0 || self.cut > 0.0
    }
}

impl FromStr for ChaosSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spec = ChaosSpec {
            stall_for: DEFAULT_STALL,
            ..ChaosSpec::default()
        };
        let mut seen: Vec<&str> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| format!("'{item}' is not key=value (e.g. reset=1%)"))?;
            let key = key.trim();
            if seen.contains(&key) {
                return Err(format!("'{key}' is given twice"));
            }
            match key {
                "reset" => spec.reset = parse_pct(key, value)?,
                "cut" => spec.cut = parse_pct(key, value)?,
                "stall" => {
                    let (rate, dur) = match value.split_once(':') {
                        Some((r, d)) => (r, Some(d)),
                        None => (value, None),
                    };
                    spec.stall = parse_pct(key, rate)?;
                    if let Some(d) = dur {
                        spec.stall_for = humantime::parse_duration(d.trim())
                            .ok()
                            .filter(|d| !d.is_zero())
                            .ok_or_else(|| {
                                format!(
                                    "stall duration '{d}' is not a positive duration such as 2s"
                                )
                            })?;
                    }
                }
                "restart" => {
                    let d = humantime::parse_duration(value.trim())
                        .ok()
                        .filter(|d| *d >= Duration::from_secs(1))
                        .ok_or_else(|| {
                            format!("restart='{value}' is not a period of at least 1s, such as 30s")
                        })?;
                    spec.restart = Some(d);
                }
                other => {
                    return Err(format!(
                        "unknown fault '{other}' (expected reset, stall, cut or restart)"
                    ))
                }
            }
            seen.push(key);
        }
        if seen.is_empty() {
            return Err("empty: give e.g. reset=1%,stall=0.5%:2s,cut=0.5%,restart=30s".into());
        }
        if spec.reset + spec.stall + spec.cut > 1.0 {
            return Err("reset + stall + cut exceed 100% of connections per second".into());
        }
        Ok(spec)
    }
}

/// `1%`, `0.5%` or a bare fraction `0.01`, within 0..=100 %.
fn parse_pct(key: &str, value: &str) -> Result<f64, String> {
    crate::share::fraction(value).ok_or_else(|| {
        format!("{key}='{value}' is not a share of connections per second such as 1% (0-100%)")
    })
}

impl fmt::Display for ChaosSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let pct = |x: f64| format!("{}%", (x * 100.0 * 1e6).round() / 1e6);
        if self.reset > 0.0 {
            parts.push(format!("reset={}", pct(self.reset)));
        }
        if self.stall > 0.0 {
            parts.push(format!(
                "stall={}:{}",
                pct(self.stall),
                humantime::format_duration(self.stall_for)
            ));
        }
        if self.cut > 0.0 {
            parts.push(format!("cut={}", pct(self.cut)));
        }
        if let Some(r) = self.restart {
            parts.push(format!("restart={}", humantime::format_duration(r)));
        }
        f.write_str(&parts.join(","))
    }
}

/// In `summary.json` the spec appears as typed (normalized), so `compare` can diff it.
impl Serialize for ChaosSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let s: ChaosSpec = "reset=1%,stall=0.5%:2s,cut=0.5%,restart=30s"
            .parse()
            .unwrap();
        assert_eq!(s.reset, 0.01);
        assert_eq!(s.stall, 0.005);
        assert_eq!(s.stall_for, Duration::from_secs(2));
        assert_eq!(s.cut, 0.005);
        assert_eq!(s.restart, Some(Duration::from_secs(30)));
        assert_eq!(s.to_string(), "reset=1%,stall=0.5%:2s,cut=0.5%,restart=30s");
        assert_eq!(s.to_string().parse::<ChaosSpec>().unwrap(), s);
        let s: ChaosSpec = "stall=0.02".parse().unwrap();
        assert_eq!((s.stall, s.stall_for), (0.02, DEFAULT_STALL));
        assert!(!"restart=5s"
            .parse::<ChaosSpec>()
            .unwrap()
            .has_connection_faults());
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        for (input, needle) in [
            ("", "empty"),
            ("reset", "key=value"),
            ("reset=lots", "share of connections"),
            ("reset=150%", "share of connections"),
            ("reset=-1%", "share of connections"),
            ("boom=1%", "unknown fault 'boom'"),
            ("reset=1%,reset=2%", "twice"),
            ("stall=1%:forever", "stall duration"),
            ("stall=1%:0s", "stall duration"),
            ("restart=0s", "at least 1s"),
            ("reset=60%,cut=50%", "exceed 100%"),
        ] {
            let err = input.parse::<ChaosSpec>().unwrap_err();
            assert!(err.contains(needle), "{input:?}: {err}");
        }
    }
}
