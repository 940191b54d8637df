//! Every response format of the protocol, each in one file with both of its sides: the server's
//! encoder and the client's parser, checked against each other by a round-trip test.
//!
//! A format's bytes are defined once, beside the code that reads them back: the server writes
//! with the encoders here, the load generator reads with the parsers here, and each file's
//! round-trip test feeds the encoder's output to the parser in every chunking. Control frames
//! (gap, heartbeat, bye) are encoded from one typed `Control` value (the `tick` module) in every
//! format. `Framing` (the `transport` module) names the format each transport uses.
//!
//! # Layout
//! - [`frame`]: what parsers yield ([`Frame`], [`ParseError`]) through [`FrameParser`].
//! - [`encode`]: the [`Encoder`] trait of the streaming formats.
//! - [`ndjson`], [`sse`], [`multipart`], [`iframe`]: the four streaming formats, each an
//!   [`Encoder`] and a [`FrameParser`].
//! - [`batch`], [`jsonp`]: the request-based answers (one whole body each), `encode` and `decode`.
//! - [`ws`]: the WebSocket messages, one whole JSON object each (ticks, controls, catch-up
//!   batches, acks), and the client's subscribe/unsubscribe ops.
//! - `pending`: the receive buffer the incremental parsers share.

pub mod batch;
pub mod encode;
pub mod frame;
pub mod iframe;
pub mod jsonp;
pub mod multipart;
pub mod ndjson;
mod pending;
pub mod sse;
#[cfg(test)]
mod test_util;
pub mod ws;

pub use encode::Encoder;
pub use frame::{decode_object, Frame, FrameParser, ParseError, MAX_FRAME};
pub use iframe::{Iframe, IframeParser};
pub use multipart::{boundary_from_content_type, Multipart, MultipartParser};
pub use ndjson::{Ndjson, NdjsonParser};
pub use sse::{Sse, SseParser};
