//! What `--debug-slow TRANSPORT=FACTOR` asks for, parsed and checked; apart from the middleware
//! so that the server's configuration names it without depending on the server's state.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tickbench_wire::transport::Kind;
use tickbench_wire::Transport;

/// One `--debug-slow` flag: deliver `transport`'s ticks `factor` × later than the server would
/// (`sse=2`), or a fixed time later (`sse=+1.5ms`).
///
/// The factor multiplies only the server's share of a tick's latency (schedule to write), which
/// at light load is a small part of what a client measures; the added delay is what doubles an
/// end-to-end latency: `experiments/gate-check.sh` adds the baseline's own p50 to one transport,
/// a 2× slowdown at the median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slowdown {
    pub transport: Transport,
    /// ≥ 1: 2 doubles the server-side latency of every tick (1 with an added delay).
    pub factor: f64,
    /// Added to every tick's hold (`+N ms`).
    pub extra: Duration,
}

impl FromStr for Slowdown {
    type Err = String;

    /// `sse=2`, or `sse=+1.5ms`.
    fn from_str(s: &str) -> Result<Slowdown, String> {
        let (t, f) = s.split_once('=').ok_or_else(|| {
            format!(
                "expected TRANSPORT=FACTOR or TRANSPORT=+MSms (e.g. sse=2, sse=+1.5ms), got {s:?}"
            )
        })?;
        let transport: Transport = t.trim().parse().map_err(|e| format!("{e}"))?;
        if !slowable(transport) {
            return Err(format!(
                "{transport} cannot be slowed: only the HTTP streams (stream, sse, multipart, iframe) can"
            ));
        }
        if let Some(ms) = f.trim().strip_prefix('+') {
            let ms: f64 = ms
                .strip_suffix("ms")
                .and_then(|n| n.parse().ok())
                .filter(|n: &f64| n.is_finite() && (0.0..=60_000.0).contains(n))
                .ok_or_else(|| {
                    format!("the added delay must be +N ms up to 60000 (e.g. +1.5ms), got {f:?}")
                })?;
            return Ok(Slowdown {
                transport,
                factor: 1.0,
                extra: Duration::from_secs_f64(ms / 1000.0),
            });
        }
        let factor: f64 = f
            .trim()
            .parse()
            .map_err(|_| format!("the factor must be a number, got {f:?}"))?;
        if !factor.is_finite() || !(1.0..=1000.0).contains(&factor) {
            return Err(format!(
                "the factor must be between 1 and 1000, got {factor}"
            ));
        }
        Ok(Slowdown {
            transport,
            factor,
            extra: Duration::ZERO,
        })
    }
}

impl fmt::Display for Slowdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.extra.is_zero() {
            write!(f, "{}={}", self.transport, self.factor)
        } else {
            write!(
                f,
                "{}=+{}ms",
                self.transport,
                self.extra.as_secs_f64() * 1000.0
            )
        }
    }
}

/// Whether `t`'s bodies go through [`body`].
pub(super) fn slowable(t: Transport) -> bool {
    match t.kind() {
        Kind::Stream => true,
        Kind::Polled | Kind::Piggyback | Kind::Held | Kind::Duplex => false,
    }
}
