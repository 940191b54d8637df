//! One cell of an experiment's matrix: one transport measured once, with its stable id.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tickbench_loadgen::targets::TargetKind;
use tickbench_wire::{Link, Transport};

use super::link::id_part;

use crate::units::{fmt_dur, fmt_num};
use crate::values::opt_duration;

/// One point of the matrix: one transport measured once on a fresh server. `None` means "the load
/// generator's default" (the axis was not given, or does not apply to this transport).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// 0-based position in run order.
    pub index: usize,
    /// Stable name, e.g. `poll-c100-r5-i2s`: the cell's folder and its key in `compare`.
    pub id: String,
    pub transport: Transport,
    pub clients: Option<u64>,
    pub rate: Option<f64>,
    #[serde(with = "opt_duration", default)]
    pub poll_interval: Option<Duration>,
    pub action_rate: Option<f64>,
    /// How the clients reach the server (`links` axis); `None`: the load generator's default,
    /// HTTP/1.1 in plaintext, one client per connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// The server measured (`targets` axis); `None`: tickbench's own, or the sweep's `--target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetKind>,
    /// 1-based repetition.
    pub repetition: u32,
    pub seed: u64,
}

impl Cell {
    /// `poll-c100-r5-i2s` (`sse-c100-h2-t100` with a link, `sse-c100-nchan` with a target), with
    /// `-rep<k>` when the experiment repeats.
    pub(crate) fn make_id(&self, with_rep: bool) -> String {
        let mut id = self.transport.name().to_string();
        if let Some(c) = self.clients {
            id.push_str(&format!("-c{c}"));
        }
        if let Some(r) = self.rate {
            id.push_str(&format!("-r{}", fmt_num(r)));
        }
        if let Some(i) = self.poll_interval {
            id.push_str(&format!("-i{}", fmt_dur(i)));
        }
        if let Some(a) = self.action_rate {
            id.push_str(&format!("-a{}", fmt_num(a)));
        }
        if let Some(l) = &self.link {
            id.push('-');
            id.push_str(&id_part(l));
        }
        if let Some(t) = self.target {
            id.push('-');
            id.push_str(t.name());
        }
        if with_rep {
            id.push_str(&format!("-rep{}", self.repetition));
        }
        id
    }

    /// The cell's parameters for a human: `poll, 100 clients, 5 ticks/s, every 2s`.
    pub fn describe(&self) -> String {
        let mut s = self.transport.name().to_string();
        if let Some(c) = self.clients {
            s.push_str(&format!(", {c} clients"));
        }
        if let Some(r) = self.rate {
            s.push_str(&format!(", {} ticks/s", fmt_num(r)));
        }
        if let Some(i) = self.poll_interval {
            s.push_str(&format!(", every {}", fmt_dur(i)));
        }
        if let Some(a) = self.action_rate {
            s.push_str(&format!(", {} actions/s", fmt_num(a)));
        }
        if let Some(l) = &self.link {
            s.push_str(&format!(", {l}"));
        }
        if let Some(t) = self.target {
            s.push_str(&format!(", on {t}"));
        }
        s.push_str(&format!(", seed {}", self.seed));
        s
    }
}
