//! A claim's verdict as `sweep.json` records it: an outcome with the paragraph that explains it.

use serde::{Deserialize, Serialize};

/// Whether the claim held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Held,
    PartlyHeld,
    NotHeld,
    /// Not enough clean data to say.
    Inconclusive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::PartlyHeld => "partly held",
            Outcome::NotHeld => "did not hold",
            Outcome::Inconclusive => "was inconclusive",
        }
    }
}

/// The judgement and the paragraph that explains it with the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub paragraph: String,
}
