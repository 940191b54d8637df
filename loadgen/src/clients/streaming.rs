//! The loop shared by the four streaming transports: open one long response, feed each chunk to
//! the transport's incremental parser as it arrives, deliver frames, and on any end (server
//! `bye`, EOF, stall, error) reconnect from the cursor.
//!
//! The cursor is the last tick's `seq + 1`, or before any tick the `X-Tickbench-Next` header
//! (where a "from now" stream started), so a reconnect never skips what was published in between.
//! SSE additionally sends `Last-Event-ID` like a browser and honours `retry:`.

use std::time::Duration;

use futures_util::stream::{BoxStream, StreamExt};
use tickbench_wire::framing::{
    boundary_from_content_type, Frame, FrameParser, IframeParser, MultipartParser, NdjsonParser,
    Next, ParseError, SseParser,
};
use tickbench_wire::transport::Framing;
use tickbench_wire::{now_micros, Tick, Transport};
use tokio::time::timeout;

use super::http::{classify, retry_after};
use super::sink::{ErrorKind, Sink};
use super::slowlink;
use super::state::{ClientState, Failure};

/// Response header carrying the cursor a stream starts at.
pub const NEXT_HEADER: &str = "x-tickbench-next";

/// One of the four stream parsers (an enum rather than a trait object: no allocation, no vtable).
#[derive(Debug)]
pub enum AnyParser {
    Ndjson(NdjsonParser),
    Sse(SseParser),
    Multipart(MultipartParser),
    Iframe(IframeParser),
}

impl AnyParser {
    /// The parser of `transport`'s framing, for a response with this `Content-Type` (multipart
    /// takes its boundary from it); `None` when the response cannot be parsed (no boundary).
    ///
    /// # Panics
    /// For a transport that does not stream over HTTP (a batch, JSONP or WebSocket framing): the
    /// client loop of such a transport never opens an HTTP stream.
    pub fn new(transport: Transport, content_type: Option<&str>) -> Option<AnyParser> {
        Some(match transport.framing() {
            Framing::Ndjson => AnyParser::Ndjson(NdjsonParser::new()),
            Framing::Sse => AnyParser::Sse(SseParser::new()),
            Framing::Multipart => {
                let boundary = content_type.and_then(boundary_from_content_type)?;
                AnyParser::Multipart(MultipartParser::new(boundary))
            }
            Framing::Iframe => AnyParser::Iframe(IframeParser::new()),
            Framing::Batch | Framing::Jsonp => {
                panic!("{transport} answers requests, it does not stream")
            }
            Framing::WebSocket => panic!("{transport} has its own loop (clients::ws)"),
        })
    }
}

impl FrameParser for AnyParser {
    fn push_bytes(&mut self, chunk: &[u8]) {
        match self {
            AnyParser::Ndjson(p) => p.push_bytes(chunk),
            AnyParser::Sse(p) => p.push_bytes(chunk),
            AnyParser::Multipart(p) => p.push_bytes(chunk),
            AnyParser::Iframe(p) => p.push_bytes(chunk),
        }
    }

    fn next_frame(&mut self) -> Option<Result<Frame, ParseError>> {
        match self {
            AnyParser::Ndjson(p) => p.next_frame(),
            AnyParser::Sse(p) => p.next_frame(),
            AnyParser::Multipart(p) => p.next_frame(),
            AnyParser::Iframe(p) => p.next_frame(),
        }
    }

    fn next_frame_into(&mut self, tick: &mut Tick) -> Option<Result<Next, ParseError>> {
        match self {
            AnyParser::Ndjson(p) => p.next_frame_into(tick),
            AnyParser::Sse(p) => p.next_frame_into(tick),
            AnyParser::Multipart(p) => p.next_frame_into(tick),
            AnyParser::Iframe(p) => p.next_frame_into(tick),
        }
    }
}

/// How one connection ended.
enum End {
    /// The server said goodbye (or closed the multipart stream properly).
    Bye,
    /// The body ended without a goodbye.
    Eof,
    Failed(ErrorKind),
}

pub(crate) async fn run<S: Sink>(c: &mut ClientState<S>) {
    let transport = c.cfg.transport;
    let path = transport.path();
    let stall = c.cfg.stream_timeout.max(Duration::from_secs(1));
    loop {
        c.begin_url(path);
        c.sink.request();
        let opened = if c.cfg.read_rate.is_some() {
            // Boxed: the connect and handshake of a slow link are a large future, and every
            // stream client's would otherwise have room for it.
            timeout(
                stall,
                Box::pin(slowlink::get(&c.url, c.last_event_id, c.cfg.local_addr)),
            )
            .await
            .map(|r| r.map(|r| Response::Slow(Box::new(r))))
        } else {
            let mut req = c.http.get(c.url.as_str());
            if let Some(id) = c.last_event_id {
                req = req.header("last-event-id", id);
            }
            timeout(stall, req.send())
                .await
                .map(|r| r.map(Response::Fast).map_err(|e| classify(&e)))
        };
        let resp = match opened {
            Err(_) => {
                c.fail(ErrorKind::Timeout.into()).await;
                continue;
            }
            Ok(Err(kind)) => {
                c.fail(kind.into()).await;
                continue;
            }
            Ok(Ok(r)) => r,
        };
        if !resp.status().is_success() {
            // Boxed: rare, and reading an error body is a large future.
            let f = Box::pin(resp.failure(c)).await;
            c.fail(f).await;
            continue;
        }
        if !c.same_stream(resp.headers()) {
            // A different stream: reconnect at once from its oldest tick (no error, no backoff).
            c.lost();
            continue;
        }
        if c.cursor.is_none() {
            c.cursor = resp
                .headers()
                .get(NEXT_HEADER)
                .and_then(|v| v.to_str().ok()?.parse().ok());
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let Some(mut parser) = AnyParser::new(transport, content_type) else {
            c.fail(ErrorKind::Parse.into()).await;
            continue;
        };
        let mut body = resp.into_body();
        c.established();
        let mut next_read = tokio::time::Instant::now();
        // The stall watchdog: one timer per connection, not one per chunk. It is armed for
        // `stall` after the last data; when it fires early (data came meanwhile) it is moved to
        // `stall` after that data. A per-read `timeout` registered and cancelled a timer on the
        // driver for every delivered tick.
        let mut last_data = tokio::time::Instant::now();
        let watchdog = tokio::time::sleep_until(last_data + stall);
        tokio::pin!(watchdog);
        let end = 'conn: loop {
            if c.cfg.read_rate.as_ref().is_some_and(|r| r.get() > 0) {
                // A slow consumer: the socket is not read until the last chunk's time at the slow
                // rate has passed, so what the server sends meanwhile waits in the socket buffers
                // and then, once they are full, in the server's journal.
                tokio::time::sleep_until(next_read).await;
            }
            let read = tokio::select! {
                biased;
                r = body.chunk() => r,
                () = &mut watchdog => {
                    if last_data.elapsed() >= stall {
                        break ErrorKind::Timeout.into();
                    }
                    watchdog.as_mut().reset(last_data + stall);
                    continue;
                }
            };
            let chunk = match read {
                Err(kind) => break End::Failed(kind),
                Ok(None) => break End::Eof,
                Ok(Some(chunk)) => chunk,
            };
            last_data = tokio::time::Instant::now();
            c.sink.bytes(chunk.len() as u64);
            if let Some(rate) = &c.cfg.read_rate {
                next_read = next_read.max(last_data) + rate.time_for(chunk.len());
            }
            parser.push_bytes(&chunk);
            // Each tick is decoded into the client's one `Tick` (see `ClientState::tick`).
            while let Some(frame) = parser.next_frame_into(&mut c.tick) {
                match frame {
                    Ok(Next::Tick) => {
                        let recv_us = now_micros();
                        c.deliver_tick(recv_us);
                        if let AnyParser::Sse(p) = &parser {
                            c.last_event_id = p.last_event_id().or(c.last_event_id);
                        }
                    }
                    Ok(Next::Frame(Frame::Tick(t))) => {
                        // Not produced by these parsers (they decode into `c.tick`); kept exact.
                        *c.tick = t;
                        c.deliver_tick(now_micros());
                    }
                    Ok(Next::Frame(Frame::Gap(g))) => c.gap(g),
                    Ok(Next::Frame(Frame::Heartbeat(_))) => {}
                    Ok(Next::Frame(Frame::Retry(ms))) => {
                        c.min_delay = Duration::from_millis(ms.min(60_000));
                    }
                    Ok(Next::Frame(Frame::Bye(_) | Frame::End)) => break 'conn End::Bye,
                    Err(_) => break 'conn ErrorKind::Parse.into(),
                }
            }
        };
        drop(body);
        match end {
            End::Bye => c.closed().await,
            // The server closed without a word: a failure (a proxy cut, a crash, a reset).
            End::Eof => c.fail(ErrorKind::Io.into()).await,
            End::Failed(kind) => c.fail(kind.into()).await,
        }
    }
}

/// A stream's response: over the client's reqwest connection, or over a slow consumer's
/// small-window connection (boxed: rare, and larger).
enum Response {
    Fast(reqwest::Response),
    Slow(Box<slowlink::SlowResponse>),
}

/// A stream's body, read once the response has been checked.
enum Body {
    /// Only the body of a reqwest response is kept: its headers hold on to the read buffer
    /// they were parsed from (hyper slices header values out of it, 8 KiB), which would
    /// otherwise stay allocated beside the connection's current one for the stream's life.
    Fast(BoxStream<'static, reqwest::Result<bytes::Bytes>>),
    Slow(Box<slowlink::SlowResponse>),
}

impl Body {
    /// The next piece of body as read; `None` at its end.
    async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, ErrorKind> {
        match self {
            Body::Fast(s) => match s.next().await {
                None => Ok(None),
                Some(Ok(b)) => Ok(Some(b)),
                Some(Err(e)) => Err(classify(&e)),
            },
            Body::Slow(r) => r.chunk().await,
        }
    }
}

impl Response {
    fn status(&self) -> reqwest::StatusCode {
        match self {
            Response::Fast(r) => r.status(),
            Response::Slow(r) => r.status(),
        }
    }

    fn headers(&self) -> &reqwest::header::HeaderMap {
        match self {
            Response::Fast(r) => r.headers(),
            Response::Slow(r) => r.headers(),
        }
    }

    /// The body, dropping the rest of the response.
    fn into_body(self) -> Body {
        match self {
            Response::Fast(r) => Body::Fast(Box::pin(r.bytes_stream())),
            Response::Slow(r) => Body::Slow(r),
        }
    }

    /// The failure a non-success answer stands for.
    async fn failure<S: Sink>(self, c: &mut ClientState<S>) -> Failure {
        match self {
            Response::Fast(r) => c.status_failure(r).await,
            Response::Slow(r) => {
                let status = r.status().as_u16();
                let retry = retry_after(r.headers());
                let body = if status == 400 { r.bytes().await } else { None };
                c.failure_from(status, retry, body.as_deref())
            }
        }
    }
}

impl From<ErrorKind> for End {
    fn from(k: ErrorKind) -> Self {
        End::Failed(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::SmallRng, RngExt, SeedableRng};

    /// A poor man's fuzzer: random mixes of protocol fragments and random bytes, cut into random
    /// chunks, must never panic (errors are fine) in any of the four parsers.
    #[test]
    fn random_input_never_panics() {
        const PIECES: &[&str] = &[
            "\n",
            "\r\n",
            "\r",
            "{",
            "}",
            "\"seq\":1,",
            "{\"gap\":{\"from\":1,\"to\":2}}",
            "data: ",
            "id: 7",
            "event: gap",
            "retry: 5",
            ": hb 1",
            "--tickbench",
            "--tickbench--",
            "Content-Length: 3",
            "Content-Length: 99999999999999",
            "<script>",
            "</script>",
            "parent.tick(",
            "parent.bye(\"x\")",
            ");",
            "\u{feff}",
            "\u{0}",
        ];
        let mut rng = SmallRng::seed_from_u64(42);
        for _ in 0..2000 {
            let mut input = Vec::new();
            for _ in 0..rng.random_range(0..40) {
                if rng.random_bool(0.7) {
                    input.extend_from_slice(PIECES[rng.random_range(0..PIECES.len())].as_bytes());
                } else {
                    input.extend((0..rng.random_range(0..8)).map(|_| rng.random::<u8>()));
                }
            }
            let mut parsers = [
                AnyParser::Ndjson(NdjsonParser::new()),
                AnyParser::Sse(SseParser::new()),
                AnyParser::Multipart(MultipartParser::new("tickbench")),
                AnyParser::Iframe(IframeParser::new()),
            ];
            for p in &mut parsers {
                let mut rest = &input[..];
                while !rest.is_empty() {
                    let n = rng.random_range(1..=rest.len());
                    p.push_bytes(&rest[..n]);
                    rest = &rest[n..];
                    while p.next_frame().is_some() {}
                }
            }
        }
    }
}
