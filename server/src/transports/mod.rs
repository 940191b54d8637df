//! The push techniques: one file per transport, beside the machinery they share.
//!
//! - Batch answers: [`poll`], [`jsonp`] (a `/poll` with `callback=`), [`longpoll`],
//!   [`piggyback`], their bodies encoded by `tickbench_wire::framing`.
//! - Streams: [`stream`] (NDJSON), [`sse`], [`multipart`], [`iframe`]. Each reads the journal
//!   through a [`feed`] and answers with [`streaming`]'s response, framed by its wire format.
//! - [`ws`]: the WebSocket, a full-duplex session reading the same [`feed`], its messages framed
//!   by `tickbench_wire::framing::ws`.
//! - [`delivery`] counts what each answer or chunk delivered.
//!
//! The router (`app`) picks the handler of each transport; nothing here knows the router.
//!
//! # Slow consumers
//! A stream never queues ticks for a client. Its body is a lazy stream that hyper polls only when
//! the connection can take more, and each poll reads from the journal by cursor at most
//! [`CHUNK_TICKS`](feed::CHUNK_TICKS) ticks / [`CHUNK_BYTES`](feed::CHUNK_BYTES) bytes. What a
//! slow or stuck client can pin is therefore bounded per connection, whatever the tick rate:
//! - the kernel send buffer, fixed by `--sndbuf` (64 KiB asked, 128 KiB as Linux counts it),
//!   instead of autotuning's up to 4 MiB;
//! - hyper's write buffer, which it stops filling at `serve::CONN_BUF_BYTES`, plus at most one
//!   chunk.
//!
//! Beyond that the client simply falls behind in the journal. If its cursor falls out of the
//! retained window, it gets an explicit gap frame and resumes from the oldest retained tick:
//! loss is declared, memory stays bounded.
//!
//! Bounded memory is not enough for timely notice, though: that gap frame queues behind what
//! hyper and both kernel socket buffers already hold, which a slow reader drains at its slow
//! pace. Hence a second rule: a stream that has not caught up with the journal head for longer
//! than [`Config::stream_max_behind`](crate::config::Config::stream_max_behind)
//! (`--max-behind`) is **reset** (a close, as Centrifugo closes slow clients; the reason goes to
//! the log and the `tickbench_slow_consumer_closes_total` metric, since a frame saying so would
//! queue behind the same buffers). The feed tells the connection's
//! [`ConnCtl`](crate::conn::ConnCtl) whenever it stands at the head; the check runs on every
//! body poll and, because a slow reader's body may go unpolled for long, on a timer in the
//! connection task too. The task then closes the socket with `SO_LINGER` 0 (RST), which
//! discards the server-side buffers at once; a `bye` frame or a clean close (FIN) would wait
//! behind them like the gap frame. The client sees a connection reset, resumes from the cursor
//! of the last tick it parsed, and gets the gap notice as the new stream's first frame if that
//! cursor was evicted meanwhile. A fast client resuming with a big backlog catches up long
//! before the limit and is never cut.
//!
//! The fixed send buffer is what makes the rule see anything: under autotuning a reader that
//! stops keeps the stream "caught up" until megabytes have queued in the kernel, which at a
//! watchlist's few KB/s takes tens of minutes.

pub mod delivery;
pub mod feed;
pub mod streaming;

pub mod iframe;
pub mod jsonp;
pub mod longpoll;
pub mod multipart;
pub mod piggyback;
pub mod poll;
pub mod sse;
pub mod stream;
pub mod ws;
