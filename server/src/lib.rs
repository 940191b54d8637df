//! tickbench quote server: a seeded stock-market simulator publishing into a sequenced tick
//! journal, served over every classic Comet push technique (interval polling, JSONP,
//! piggyback, long-poll, chunked NDJSON, Server-Sent Events, multipart/x-mixed-replace and the
//! forever iframe) exactly as `docs/protocol.md` describes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let cfg = tickbench_server::Config { rate: 0.0, ..Default::default() };
//! let server = tickbench_server::spawn(cfg, "127.0.0.1:0".parse()?).await?;
//! let last = server.publish(10); // ten ticks now, seqs 1..=10
//! let body = reqwest::get(format!("{}/poll?since=1", server.url())).await?.text().await?;
//! server.shutdown().await;
//! # let _ = (last, body); Ok(()) }
//! ```
//!
//! Every tick is encoded to JSON once, kept in one bounded ring, and read by every client through
//! its own cursor: the server keeps no per-client queues, so a slow client costs a cursor and at
//! most one write buffer, and loss (a cursor that fell out of the ring) is always declared with an
//! explicit gap.
//!
//! The stream is a pure function of (seed, rate, open burst, symbols, epoch) — or of (tape,
//! speed, epoch) for a replayed tape: a server started with
//! [`Config::epoch_us`] set to an earlier server's epoch replays the market up to now before it
//! accepts connections and continues that server's exact sequence, so clients resume by cursor
//! across a restart (see [`generator`]). Every answer of the router carries
//! `X-Tickbench-Epoch` (the accept loop's over-cap 503 and hyper's own answers, e.g. 431, do not).
//!
//! # Layout
//! Foundations first: each module uses only modules listed above it (the module graph is
//! acyclic; [`transports`] knows nothing of the router or the accept loop).
//! - [`market`]: the symbol universe (the built-in symbols at the reference quotes of a committed
//!   table, `market::reference`) and the seeded random walk (GBM prices, Poisson arrivals paced
//!   with an optional opening burst by `market::pacing`, Zipf popularity).
//! - [`feed`]: where ticks come from: the market, or a recorded quote tape (`feed::tape`) played
//!   at a speed (`feed::replay`); an edge's NATS JetStream consumer (`feed::nats`, which appends
//!   to the [`journal`] and counts in [`metrics`], both listed below: the one exception).
//! - [`error`]: [`Error`], why the server could not start or keep running.
//! - [`config`]: [`Config`], the settings and their limits; [`opts`]: [`ServeOpts`], the
//!   `tickbench serve` flags that become a [`Config`].
//! - [`metrics`]: the counters behind `/metrics`, one set per transport.
//! - [`frames`]: [`Framed`](frames::Framed), the streaming formats a tick is framed in once.
//! - [`wakeups`]: per-symbol reader wake-ups (a publish wakes only the streams watching it).
//! - [`journal`]: the ring of encoded and framed ticks, cursors, gaps, latest quotes, reader
//!   wake-ups.
//! - [`fanout`]: the fan-out writer: one shard task per core writes each publish to every
//!   stream parked at the journal head (plain HTTP/1.1), one `send` per stream, and hands a
//!   stream whose socket filled back to its own task.
//! - [`generator`]: the startup replay, the paced generator thread and the producer that
//!   encodes and publishes.
//! - [`state`]: [`AppState`](state::AppState), what every handler shares.
//! - [`api_error`]: the JSON error answers; [`json`]: the headers of every JSON answer;
//!   [`params`]: the query parameters every endpoint takes.
//! - [`conn`]: [`ConnCtl`](conn::ConnCtl), the handle (per HTTP/1.1 connection, per HTTP/2
//!   stream) through which a stream too far behind asks for a reset, and the socket that can be
//!   closed with RST.
//! - [`transports`]: one file per push technique, with the stream feed, stream response and
//!   delivery counting they share (the bytes of each format are `tickbench_wire::framing`'s).
//! - [`page`]: the browser page at `/` (embedded HTML and JavaScript, strict CSP).
//! - [`endpoints`]: `/snapshot`, `/symbols`, `/healthz`, `/metrics`, the 404/405 fallbacks.
//! - [`app`]: the router (every transport's routes from one exhaustive `match`) and the
//!   middleware every answer passes.
//! - [`tls`]: [`Tls`](tls::Tls), the certificate (files or self-signed) and rustls settings.
//! - [`preface`]: telling HTTP/2 prior knowledge from HTTP/1.1 by the first bytes.
//! - [`direct`]: an HTTP/1.1 connection's first request, when it asks for a stream, answered
//!   without hyper (the journal's frames are pre-encoded HTTP/1.1 chunks: one `write` each).
//! - [`serve`]: the accept loop (TLS, HTTP/1.1 and HTTP/2 on one port, timeouts, connection
//!   cap, resets of streams too far behind, graceful shutdown).
//! - `handle.rs`: [`spawn`] and the [`ServerHandle`] of a server running in this process.
//! - `run.rs`: [`run`](fn@run), the `tickbench serve` process (signals, stdin, fd limit).

pub mod api_error;
pub mod app;
pub mod config;
pub mod conn;
pub mod direct;
pub mod endpoints;
pub mod error;
pub mod fanout;
pub mod feed;
pub mod frames;
pub mod generator;
mod handle;
pub mod journal;
pub mod json;
pub mod market;
pub mod metrics;
pub mod opts;
pub mod page;
pub mod params;
pub mod preface;
pub mod process_metrics;
mod run;
pub mod serve;
pub mod slowdown;
pub mod state;
pub mod tls;
pub mod transports;
pub mod wakeups;

pub use config::Config;
pub use error::Error;
pub use handle::{spawn, ServerHandle};
pub use opts::ServeOpts;
pub use run::run;
