//! Application payloads: what `/snapshot`, `/symbols` and the piggyback endpoints answer, the
//! order body clients post, and the JSON error body every 4xx/5xx carries.

use serde::{Deserialize, Serialize};

use crate::tick::{Gap, Tick};

/// The latest state of one symbol, as `/snapshot` and `GET /api/quote/{sym}` report it.
///
/// `open` is the session's first price (the price the simulator started the symbol at), so a
/// ticker can show change and change % without keeping history; `high`/`low`/`volume` are over the
/// server's lifetime ("the day"). `seq`/`sseq` are those of the tick that produced this state
/// (0 before the symbol's first tick), so a viewer can start from a snapshot and then apply only
/// ticks with a larger `sseq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub sym: String,
    pub bid: f64,
    pub ask: f64,
    pub last: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub volume: u64,
    pub seq: u64,
    pub sseq: u64,
    pub ts: u64,
}

/// `GET /snapshot`: every requested symbol's latest quote, and `next`, the cursor to stream from so
/// that nothing between the snapshot and the stream is missed or applied twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub next: u64,
    pub quotes: Vec<Quote>,
}

/// One entry of `GET /symbols`. `weight` is the symbol's share of all ticks (Zipf-like popularity,
/// the weights sum to 1), which the load generator uses to draw realistic watchlists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolInfo {
    pub sym: String,
    pub weight: f64,
    pub price: f64,
}

/// `GET /symbols`: the simulated market, most popular symbol first, plus the generator settings a
/// client needs to interpret what it sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Symbols {
    /// Aggregate tick rate (ticks/s) the generator was started with.
    pub rate: f64,
    /// Seed of the simulation: the same seed and rate give the same tick sequence.
    pub seed: u64,
    /// How many ticks the journal retains.
    pub retain: u64,
    /// The run's time origin, µs since the Unix epoch (ticks are scheduled at epoch + Poisson
    /// offsets). A server restarted with the same seed, rate, symbols and epoch continues the
    /// same tick sequence. 0 from servers that predate the field.
    #[serde(default)]
    pub epoch_us: u64,
    pub symbols: Vec<SymbolInfo>,
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

/// Body of `POST /api/orders`. Unknown fields are rejected so a client's typo is a 400, not an
/// order the client did not mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub sym: String,
    pub side: Side,
    /// Shares, 1 to 1,000,000.
    pub qty: u32,
    /// Limit price; absent for a market order. Must be finite and > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
}

/// The server's acknowledgement of an accepted order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderAck {
    pub id: u64,
    pub sym: String,
    pub side: Side,
    pub qty: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
    /// Always `"accepted"`: the simulator does not match orders, it only acknowledges them.
    pub status: String,
    /// Server clock when the order was accepted (µs since the Unix epoch).
    pub ts: u64,
}

/// Piggyback answer of `GET /api/quote/{sym}?since=`: the quote the client asked for, with the
/// ticks since its cursor riding along (the [`crate::Batch`] fields, flattened).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteResponse {
    pub quote: Quote,
    pub next: u64,
    pub ticks: Vec<Tick>,
    pub gap: Option<Gap>,
}

/// Piggyback answer of `POST /api/orders?since=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderResponse {
    pub order: OrderAck,
    pub next: u64,
    pub ticks: Vec<Tick>,
    pub gap: Option<Gap>,
}

/// The body of every error answer: `{"error":"since must be an integer","param":"since"}`.
/// `param` names the query parameter or body field at fault, when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}
