//! The text shared by the control frames of the NDJSON, multipart, iframe and SSE streams: the
//! gap object and the reason a `bye` gives.

use tickbench_wire::Gap;

/// The reason every `bye` frame gives.
pub const BYE_REASON: &str = "server shutting down";

/// `{"gap":{"from":F,"to":T}}`
pub fn gap_json(g: Gap) -> String {
    format!("{{\"gap\":{{\"from\":{},\"to\":{}}}}}", g.from, g.to)
}
