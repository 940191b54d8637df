//! Types that cross a process boundary in tickbench: the JSON the quote server sends (ticks,
//! batches, gap notices, quotes, orders, errors), the names of the transports, and the schema of
//! the `summary.json` files the load generator writes and `show`/`compare` read.
//!
//! Keeping them in one small crate with no async or HTTP dependencies means the server, the load
//! generator, the terminal UI and the regression gate all agree on one definition, and a change of
//! wire format is a compile error everywhere it matters. `docs/protocol.md` is the prose version.
//!
//! # Layout
//! - [`tick`]: [`Tick`], [`Batch`], [`Gap`] and the stream control frames.
//! - [`api`]: application payloads: quotes, snapshot, symbols, orders, error bodies.
//! - [`transport`]: the [`Transport`] enum (`poll`, `jsonp`, … `iframe`) with parsing.
//! - [`summary`]: the `summary.json` schema.

pub mod api;
pub mod summary;
pub mod tick;
pub mod transport;

pub use api::{
    ApiError, OrderAck, OrderRequest, OrderResponse, Quote, QuoteResponse, Side, Snapshot,
    SymbolInfo, Symbols,
};
pub use summary::{Floor, LatencySummary, Summary, TransportSummary, SCHEMA_VERSION};
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
