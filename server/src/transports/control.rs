//! Control-frame text shared across stream formats: the reason every `bye` gives (all four
//! streams), the gap object (NDJSON and multipart).

use tickbench_wire::Gap;

/// The reason every `bye` frame gives.
pub const BYE_REASON: &str = "server shutting down";

/// `{"gap":{"from":F,"to":T}}`
pub fn gap_json(g: Gap) -> String {
    format!("{{\"gap\":{{\"from\":{},\"to\":{}}}}}", g.from, g.to)
}
