//! Clients of nginx + Nchan, on its native transports: EventSource, long-poll, chunked,
//! multipart/mixed and WebSocket, all on one subscriber location and chosen by a request header
//! ([`targets::nchan`](crate::targets::nchan)). Each subscribes to its watchlist's channels
//! (multiplexed), checks every tick's `sseq` like every other client, and resumes after a failure
//! from Nchan's own cursor (the last message id); the chunked transport has none, so it restarts
//! from now and the sequence check counts what it missed. Ticks are decoded into the client's
//! reused tick (`decode_tick_into`, the parsers' `next_frame_into`): no allocation per delivery.
//!
//! # Layout
//! - this file: the two HTTP loops (one long response; one held request per message).
//! - [`ws`]: the WebSocket loop (`ws+meta.nchan`, whose messages carry the id to resume from).
//! - [`event_ids`]: the raw `id:` of each EventSource event (Nchan's ids are not numbers).
//! - [`multipart`]: Nchan's multipart/mixed framing (parts without `Content-Length`).

pub mod event_ids;
pub mod multipart;
pub mod ws;

use std::time::Duration;

use tickbench_wire::framing::{
    boundary_from_content_type, decode_tick_into, Frame, FrameParser, NdjsonParser, Next, SseParser,
};
use tickbench_wire::{now_micros, Transport};
use tokio::time::timeout;

use super::http::classify;
use super::longpoll::GRACE;
use super::sink::{ErrorKind, Sink};
use super::state::ClientState;
use crate::targets::nchan::{subscribe_url, transport_header, Cursor};
use event_ids::EventIds;
use multipart::{Item, NchanMultipart};

pub(crate) async fn run<S: Sink>(c: &mut ClientState<S>) {
    let url = subscribe_url(c.cfg.base.as_str(), c.cfg.symbols.as_deref());
    match c.cfg.transport {
        Transport::Longpoll => longpoll(c, &url).await,
        Transport::Sse | Transport::Stream | Transport::Multipart => stream(c, &url).await,
        Transport::Ws => ws::run(c, &url).await,
        Transport::Poll | Transport::Jsonp | Transport::Piggyback | Transport::Iframe => {
            // `run` never starts these (Nchan lacks them); a library caller that does gets one
            // counted error and an idle client rather than a panic.
            c.sink.error(ErrorKind::Status(404));
            std::future::pending::<()>().await;
        }
    }
}

/// The parser of one Nchan stream response.
enum StreamParser {
    Sse(SseParser, EventIds),
    Chunked(NdjsonParser),
    Multipart(NchanMultipart),
}

async fn stream<S: Sink>(c: &mut ClientState<S>, url: &str) {
    let transport = c.cfg.transport;
    let stall = c.cfg.stream_timeout.max(Duration::from_secs(1));
    let mut cursor = Cursor::default();
    loop {
        c.sink.request();
        let mut req = c.http.get(url);
        if let Some((k, v)) = transport_header(transport) {
            req = req.header(k, v);
        }
        for (k, v) in cursor.headers() {
            req = req.header(k, v);
        }
        let mut resp = match timeout(stall, req.send()).await {
            Err(_) => {
                c.fail(ErrorKind::Timeout.into()).await;
                continue;
            }
            Ok(Err(e)) => {
                c.fail(classify(&e).into()).await;
                continue;
            }
            Ok(Ok(r)) => r,
        };
        if !resp.status().is_success() {
            let f = c.status_failure(resp).await;
            c.fail(f).await;
            continue;
        }
        let mut parser = match transport {
            Transport::Sse => StreamParser::Sse(SseParser::new(), EventIds::default()),
            Transport::Stream => StreamParser::Chunked(NdjsonParser::new()),
            Transport::Multipart => {
                let boundary = resp
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(boundary_from_content_type);
                match boundary {
                    Some(b) => StreamParser::Multipart(NchanMultipart::new(b)),
                    None => {
                        c.fail(ErrorKind::Parse.into()).await;
                        continue;
                    }
                }
            }
            Transport::Longpoll
            | Transport::Poll
            | Transport::Jsonp
            | Transport::Piggyback
            | Transport::Iframe
            | Transport::Ws => unreachable!("only streams reach the stream loop"),
        };
        c.established();
        let failed = loop {
            let chunk = match timeout(stall, resp.chunk()).await {
                Err(_) => break ErrorKind::Timeout,
                Ok(Err(e)) => break classify(&e),
                Ok(Ok(None)) => break ErrorKind::Io,
                Ok(Ok(Some(chunk))) => chunk,
            };
            c.sink.bytes(chunk.len() as u64);
            if let Err(kind) = feed(c, &mut parser, &mut cursor, &chunk) {
                break kind;
            }
        };
        drop(resp);
        c.fail(failed.into()).await;
    }
}

/// Feeds one chunk and delivers every tick completed by it.
fn feed<S: Sink>(
    c: &mut ClientState<S>,
    parser: &mut StreamParser,
    cursor: &mut Cursor,
    chunk: &[u8],
) -> Result<(), ErrorKind> {
    match parser {
        StreamParser::Sse(p, ids) => {
            p.push_bytes(chunk);
            ids.push(chunk);
            while let Some(frame) = p.next_frame_into(&mut c.tick) {
                match frame {
                    Ok(Next::Tick) => {
                        c.deliver_tick(now_micros());
                        cursor.event_id = ids.pop().or(cursor.event_id.take());
                    }
                    Ok(Next::Frame(f)) => frame_end(f)?,
                    Err(_) => return Err(ErrorKind::Parse),
                }
            }
        }
        StreamParser::Chunked(p) => {
            p.push_bytes(chunk);
            while let Some(frame) = p.next_frame_into(&mut c.tick) {
                match frame {
                    Ok(Next::Tick) => c.deliver_tick(now_micros()),
                    Ok(Next::Frame(f)) => frame_end(f)?,
                    Err(_) => return Err(ErrorKind::Parse),
                }
            }
        }
        StreamParser::Multipart(p) => {
            p.push(chunk);
            while let Some(item) = p.next_item() {
                match item {
                    Ok(Item::Part(part)) => {
                        decode_tick_into(part.body.trim_ascii(), &mut c.tick)
                            .map_err(|_| ErrorKind::Parse)?;
                        c.deliver_tick(now_micros());
                        cursor.set_part_id(part.last_modified.as_deref(), part.etag.as_deref());
                    }
                    Ok(Item::End) => return Err(ErrorKind::Io),
                    Err(_) => return Err(ErrorKind::Parse),
                }
            }
        }
    }
    Ok(())
}

/// A non-tick frame of a Nchan stream: heartbeats pass, an end ends the response.
fn frame_end(f: Frame) -> Result<(), ErrorKind> {
    match f {
        Frame::Heartbeat(_) | Frame::Retry(_) | Frame::Gap(_) | Frame::Tick(_) => Ok(()),
        Frame::Bye(_) | Frame::End => Err(ErrorKind::Io),
    }
}

/// Nchan long-poll: one message per answer; the next request carries that answer's
/// `Last-Modified` and `Etag` as `If-Modified-Since` and `If-None-Match`. A hold that expires is
/// answered `408` (an empty answer, not an error); the client asks again from the same cursor.
async fn longpoll<S: Sink>(c: &mut ClientState<S>, url: &str) {
    let hold = c.cfg.longpoll_timeout.max(Duration::from_secs(1));
    let mut cursor = Cursor::default();
    loop {
        c.sink.request();
        let mut req = c.http.get(url).timeout(hold + GRACE);
        for (k, v) in cursor.headers() {
            req = req.header(k, v);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                c.fail(classify(&e).into()).await;
                continue;
            }
        };
        let status = resp.status().as_u16();
        if status == 408 || status == 304 {
            c.established();
            c.sink.answer(0);
            continue;
        }
        if !resp.status().is_success() {
            let f = c.status_failure(resp).await;
            c.fail(f).await;
            continue;
        }
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (time, tag) = (
            header(reqwest::header::LAST_MODIFIED),
            header(reqwest::header::ETAG),
        );
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                c.fail(classify(&e).into()).await;
                continue;
            }
        };
        c.sink.bytes(body.len() as u64);
        if decode_tick_into(body.trim_ascii(), &mut c.tick).is_err() {
            c.fail(ErrorKind::Parse.into()).await;
            continue;
        }
        let recv_us = now_micros();
        c.established();
        c.deliver_tick(recv_us);
        c.sink.answer(1);
        cursor.set_time_tag(time.as_deref(), tag.as_deref());
    }
}
