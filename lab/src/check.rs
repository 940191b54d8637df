//! The `[verdict]` table of an experiment file: which built-in analysis, with which parameters,
//! judges the claim. The analyses themselves live in [`crate::claims`].

use serde::{Deserialize, Serialize};
use tickbench_wire::Transport;

use crate::values::{Dur, Positive};

/// The built-in analyses an experiment can ask for (`[verdict] kind = "..."`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Polling waste: the share of empty poll answers against a quoted figure, per event rate,
    /// and the latency cost of a wider interval.
    EmptyShare {
        /// The share the claim quotes, percent.
        #[serde(default = "thirty")]
        expected_pct: Positive,
        /// How far (percentage points) a measured share may be from it and still "hold".
        #[serde(default = "ten")]
        tolerance_pct: Positive,
        /// Judge only the cells with this poll interval (all poll cells when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poll_interval: Option<Dur>,
    },
    /// Long-poll against streaming as the tick rate rises: the rate at which long-poll's median
    /// latency reaches `factor` × the best streaming transport's, and whether its request rate
    /// climbs toward a request loop (polling).
    Crossover {
        #[serde(default = "longpoll")]
        transport: Transport,
        #[serde(default = "two")]
        factor: Positive,
    },
    /// Latency as a function of the client's own request rate: held when the log-log slope of
    /// median latency against action rate lies in `[slope_min, slope_max]` (−1 = inverse).
    InverseLatency {
        #[serde(default = "piggyback")]
        transport: Transport,
        #[serde(default = "slope_min")]
        slope_min: f64,
        #[serde(default = "slope_max")]
        slope_max: f64,
    },
    /// Scale: every streaming transport stays clean (no loss, no errors, all clients served) at
    /// the largest client count with server CPU per tick growing at most `cpu_growth_max` ×, and
    /// long-poll costs more CPU per tick than streaming. A saturated load generator at the
    /// largest count is no evidence either way (inconclusive for that transport).
    Scale {
        #[serde(default = "two")]
        cpu_growth_max: Positive,
    },
    /// A protocol setting (the experiment's `links`: HTTP/2, TLS, tabs per connection) against
    /// HTTP/1.1 in plaintext on the same cells: held when server CPU per delivery is at most
    /// `max_cpu_ratio` ×, the median latency at most `max_latency_ratio` × (or 1 ms more), and,
    /// if given, server memory at most `max_rss_ratio` × the plaintext HTTP/1.1 point's.
    LinkCost {
        #[serde(default = "one_and_a_half")]
        max_cpu_ratio: Positive,
        #[serde(default = "one_and_a_half")]
        max_latency_ratio: Positive,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_rss_ratio: Option<Positive>,
    },
}

fn one_and_a_half() -> Positive {
    Positive(1.5)
}

fn thirty() -> Positive {
    Positive(30.0)
}
fn ten() -> Positive {
    Positive(10.0)
}
fn two() -> Positive {
    Positive(2.0)
}
fn longpoll() -> Transport {
    Transport::Longpoll
}
fn piggyback() -> Transport {
    Transport::Piggyback
}
fn slope_min() -> f64 {
    -1.5
}
fn slope_max() -> f64 {
    -0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_table_parses_with_defaults_and_rejects_unknown_keys() {
        let c: Check = toml::from_str("kind = \"crossover\"").unwrap();
        assert_eq!(
            c,
            Check::Crossover {
                transport: Transport::Longpoll,
                factor: Positive(2.0)
            }
        );
        assert!(toml::from_str::<Check>("kind = \"crossover\"\nfactr = 3").is_err());
        assert!(toml::from_str::<Check>("kind = \"vibes\"").is_err());
    }
}
