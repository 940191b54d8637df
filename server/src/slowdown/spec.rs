//! What `--debug-slow TRANSPORT=FACTOR` asks for, parsed and checked; apart from the middleware
//! so that the server's configuration names it without depending on the server's state.

use std::fmt;
use std::str::FromStr;

use tickbench_wire::transport::Kind;
use tickbench_wire::Transport;

/// One `--debug-slow` flag: deliver `transport`'s ticks `factor` × later than the server would.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slowdown {
    pub transport: Transport,
    /// ≥ 1: 2 doubles the server-side latency of every tick.
    pub factor: f64,
}

impl FromStr for Slowdown {
    type Err = String;

    /// `sse=2`.
    fn from_str(s: &str) -> Result<Slowdown, String> {
        let (t, f) = s
            .split_once('=')
            .ok_or_else(|| format!("expected TRANSPORT=FACTOR (e.g. sse=2), got {s:?}"))?;
        let transport: Transport = t.trim().parse().map_err(|e| format!("{e}"))?;
        let factor: f64 = f
            .trim()
            .parse()
            .map_err(|_| format!("the factor must be a number, got {f:?}"))?;
        if !factor.is_finite() || !(1.0..=1000.0).contains(&factor) {
            return Err(format!(
                "the factor must be between 1 and 1000, got {factor}"
            ));
        }
        if !slowable(transport) {
            return Err(format!(
                "{transport} cannot be slowed: only the HTTP streams (stream, sse, multipart, iframe) can"
            ));
        }
        Ok(Slowdown { transport, factor })
    }
}

impl fmt::Display for Slowdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.transport, self.factor)
    }
}

/// Whether `t`'s bodies go through [`body`].
pub(super) fn slowable(t: Transport) -> bool {
    match t.kind() {
        Kind::Stream => true,
        Kind::Polled | Kind::Piggyback | Kind::Held | Kind::Duplex => false,
    }
}
