//! Simulated clients, one module per transport, behind one entry point ([`run_client`]) and one
//! reporting trait ([`Sink`]). The load generator's workers and the terminal ticker both use them.
//!
//! Each simulated client behaves like one browser tab: its own keep-alive connection (its own
//! [`http_client`]; HTTP/1.1 streams of one worker share a pool, each on a connection of its
//! own, see [`HttpClients`]), its own watchlist and cursor, and its transport's natural loop. Every tick it
//! receives goes through its [`SeqChecker`] and is reported with the client clock read right after
//! parsing; every failure is counted, backed off (full jitter, capped) and resumed from the cursor,
//! so nothing is lost that the server did not declare lost.
//!
//! # Layout
//! - `dispatch`: [`run_client`], one client handed to its transport's loop (an exhaustive match
//!   on [`Transport`](tickbench_wire::Transport): a new transport is a compile error there until
//!   it has a client; the loop is boxed, so a client's task is as large as its own loop), and
//!   [`http_for`] / [`HttpClients`], the HTTP client it sends through (none of its own for
//!   WebSocket clients; one per worker and source address for HTTP/1.1 streams).
//! - `failover`: moving to another edge of the same feed when the client's is gone
//!   (`run --failover`), resuming by the cursor, and timing the takeover.
//! - `source_addrs`: [`SourceAddrs`], the local addresses clients connect from.
//! - `config`: [`ClientConfig`] and [`ReadRate`]; `sink`: [`Sink`], [`SeqOutcome`], [`ErrorKind`].
//!   They live apart from this file so that the loops use them without using their parent
//!   (the module graph stays acyclic).
//! - [`poll`] (interval polling and JSONP), [`piggyback`], [`longpoll`]: the request/answer
//!   transports, sharing the batch delivery path.
//! - [`streaming`]: the one-long-response loop shared by the four streams, feeding each chunk to
//!   its format's incremental parser from [`tickbench_wire::framing`], which yields [`Frame`]s.
//!   The bytes of every format (and their parsers) live there, beside the server's encoders.
//! - [`nchan`]: the clients of nginx + Nchan on its native transports (its own cursor and
//!   multipart framing); Pushpin's clients are the loops above, its GRIP backend speaking
//!   tickbench's protocol.
//! - [`seq`]: the per-client sequence checker; [`backoff`]: reconnect delays; [`http`]: the
//!   client's `reqwest::Client` (HTTP/1.1 or HTTP/2, plaintext or TLS, own or shared by tabs)
//!   and URL building; [`tls`]: which server certificates are trusted; [`slowlink`]: the
//!   small-window connection of a slow consumer's stream; [`ws`]: the WebSocket loop
//!   (tokio-tungstenite, the same cursor, checks and backoff); `state`: what a client carries between
//!   requests and the reporting paths every loop shares.

pub mod backoff;
mod config;
mod dispatch;
mod failover;
pub mod http;
pub mod longpoll;
pub mod nchan;
pub mod piggyback;
pub mod poll;
pub mod pushpin;
pub mod seq;
mod sink;
pub mod slowlink;
mod source_addrs;
mod state;
pub mod streaming;
pub mod tls;
pub mod ws;

pub use config::{ClientConfig, ReadRate};
pub use dispatch::{http_for, run_client, HttpClients};
pub use http::{http_client, Connection, HttpSpec};
pub use seq::SeqChecker;
pub use sink::{ErrorKind, SeqOutcome, Sink};
pub use source_addrs::SourceAddrs;
pub use tickbench_wire::framing::{Frame, FrameParser, ParseError};

#[cfg(test)]
pub(crate) mod test_util {
    use tickbench_wire::Tick;

    /// A tick with the given identity and fixed prices.
    pub fn tick(seq: u64, sseq: u64, sym: &str) -> Tick {
        Tick {
            seq,
            sseq,
            sym: sym.into(),
            bid: 1.0,
            ask: 1.01,
            last: 1.0,
            size: 10,
            ts: 1,
        }
    }
}
