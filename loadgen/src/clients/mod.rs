//! Simulated clients, one module per transport, behind one entry point ([`run_client`]) and one
//! reporting trait ([`Sink`]). The load generator's workers and the terminal ticker both use them.
//!
//! Each simulated client behaves like one browser tab: its own keep-alive connection (its own
//! [`http_client`]), its own watchlist and cursor, and its transport's natural loop. Every tick it
//! receives goes through its [`SeqChecker`] and is reported with the client clock read right after
//! parsing; every failure is counted, backed off (full jitter, capped) and resumed from the cursor,
//! so nothing is lost that the server did not declare lost.
//!
//! # Layout
//! - `dispatch`: [`run_client`], one client handed to its transport's loop (an exhaustive match on
//!   [`Transport`](tickbench_wire::Transport): a new transport is a compile error there until it
//!   has a client).
//! - `config`: [`ClientConfig`] and [`ReadRate`]; `sink`: [`Sink`], [`SeqOutcome`], [`ErrorKind`].
//!   They live apart from this file so that the loops use them without using their parent
//!   (the module graph stays acyclic).
//! - [`poll`] (interval polling and, via [`jsonp`], JSONP), [`piggyback`], [`longpoll`]: the
//!   request/answer transports, sharing the batch delivery path.
//! - [`streaming`]: the one-long-response loop shared by the four streams, with one incremental
//!   parser each: [`stream::NdjsonParser`], [`sse::SseParser`], [`multipart::MultipartParser`],
//!   [`iframe::IframeParser`], all producing [`Frame`]s.
//! - [`seq`]: the per-client sequence checker; [`backoff`]: reconnect delays; [`http`]: the
//!   per-client `reqwest::Client` and URL building; [`slowlink`]: the small-window connection of
//!   a slow consumer's stream; `state`: what a client carries between
//!   requests and the reporting paths every loop shares.

pub mod backoff;
mod config;
mod dispatch;
pub mod frame;
pub mod http;
pub mod iframe;
pub mod jsonp;
pub mod longpoll;
pub mod multipart;
pub mod piggyback;
pub mod poll;
pub mod seq;
mod sink;
pub mod slowlink;
pub mod sse;
mod state;
pub mod stream;
pub mod streaming;

pub use config::{ClientConfig, ReadRate};
pub use dispatch::run_client;
pub use frame::{Frame, FrameParser, ParseError};
pub use http::http_client;
pub use seq::SeqChecker;
pub use sink::{ErrorKind, SeqOutcome, Sink};
