//! The protocol of tickbench, the part that crosses a process boundary: the JSON the quote server
//! sends (ticks, batches, gap notices, quotes, orders, errors), the bytes each transport frames
//! it in, the query parameters requests carry, every fact about each transport, and the schema
//! of the `summary.json` files the load generator writes and `show`/`compare` read.
//!
//! Keeping them in one small crate with no async or HTTP dependencies means the server, the load
//! generator, the terminal UI and the regression gate all share one definition: the server
//! encodes and the clients parse with the same [`framing`] module, whose round-trip tests check
//! the two against each other. `docs/protocol.md` is the prose version.
//!
//! # Layout
//! - [`tick`]: [`Tick`], [`Batch`], [`Gap`] and the stream control frames ([`Control`]).
//! - [`api`]: application payloads: quotes, snapshot, symbols, orders, error bodies.
//! - [`transport`]: the [`Transport`] enum (`poll`, `jsonp`, … `iframe`, `ws`) and every
//!   per-transport fact (path, kind, resume style, framing, colour, key).
//! - [`framing`]: one file per response format (NDJSON, SSE, multipart, iframe, batch, JSONP,
//!   WebSocket messages),
//!   each with the server's encoder and the client's parser and a round-trip test.
//! - [`query`]: the query parameters (`since`, `symbols`, `limit`, `timeout`, `callback`).
//! - [`technique`]: the browser page's techniques ([`Technique`]: how a browser reads each
//!   transport) and the facts the page, its route and the browser driver share.
//! - [`summary`]: the `summary.json` schema.

pub mod api;
pub mod framing;
pub mod query;
pub mod summary;
pub mod technique;
pub mod tick;
pub mod transport;

pub use api::{
    ApiError, OrderAck, OrderRequest, OrderResponse, Quote, QuoteResponse, Side, Snapshot,
    SymbolInfo, Symbols,
};
pub use summary::{
    BareHttp, BrowserCompare, BrowserSection, BrowserTechnique, Floor, FloorMultiples, HgrmUnit,
    Host, HttpVersion, LatencySummary, Link, Summary, Takeover, TransportSummary, HIGH_STEAL_PCT,
    SCHEMA_VERSION,
};
pub use technique::{ParseTechniqueError, Technique};
pub use tick::{Batch, Control, Gap, Tick};
pub use transport::{ParseTransportError, Transport};

/// Microseconds since the Unix epoch from the system clock: the clock every tick's `ts` and every
/// client-side latency sample is read from, so server and clients on one machine share it.
pub fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
