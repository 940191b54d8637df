//! The matrix axes a chart can put on x; which of them a sweep varied.

use crate::points::Point;
use crate::units::{fmt_dur, fmt_num};

/// A matrix axis a chart can use as its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Clients,
    Rate,
    PollInterval,
    ActionRate,
}

impl Dim {
    /// Every axis, in the order charts prefer them as x (rate first).
    pub const ALL: [Dim; 4] = [Dim::Rate, Dim::Clients, Dim::PollInterval, Dim::ActionRate];

    /// This axis's value at `p`, `None` when the point's cell did not set it.
    pub fn value(self, p: &Point) -> Option<f64> {
        match self {
            Dim::Clients => p.clients.map(|c| c as f64),
            Dim::Rate => p.rate,
            Dim::PollInterval => p.poll_interval.map(|d| d.as_secs_f64()),
            Dim::ActionRate => p.action_rate,
        }
    }

    /// The axis in chart file names.
    pub fn slug(self) -> &'static str {
        match self {
            Dim::Clients => "clients",
            Dim::Rate => "rate",
            Dim::PollInterval => "poll_interval",
            Dim::ActionRate => "action_rate",
        }
    }

    /// The axis label.
    pub fn title(self) -> &'static str {
        match self {
            Dim::Clients => "clients",
            Dim::Rate => "tick rate (ticks/s)",
            Dim::PollInterval => "poll interval (s)",
            Dim::ActionRate => "client requests/s (action rate)",
        }
    }

    /// Short tag for a series label: `c=100`, `rate=5`, `every 2s`, `act=0.5/s`.
    pub fn tag(self, p: &Point) -> Option<String> {
        Some(match self {
            Dim::Clients => format!("c={}", p.clients?),
            Dim::Rate => format!("rate={}", fmt_num(p.rate?)),
            Dim::PollInterval => format!("every {}", fmt_dur(p.poll_interval?)),
            Dim::ActionRate => format!("act={}/s", fmt_num(p.action_rate?)),
        })
    }
}

/// The axes with more than one distinct value, in [`Dim::ALL`] order (rate first).
pub fn varying(points: &[Point]) -> Vec<Dim> {
    Dim::ALL
        .into_iter()
        .filter(|d| {
            let mut v: Vec<f64> = points.iter().filter_map(|p| d.value(p)).collect();
            v.sort_by(|a, b| a.total_cmp(b));
            v.dedup();
            v.len() > 1
        })
        .collect()
}
