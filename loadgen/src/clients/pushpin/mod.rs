//! Pushpin's own client: WebSocket, which Pushpin turns into WebSocket-over-HTTP towards the GRIP
//! backend ([`targets::grip_ws`](crate::targets::grip_ws)); Pushpin's SSE, HTTP streaming and
//! long-poll clients are tickbench's own loops, since the backend speaks tickbench's protocol.
//!
//! A session subscribes (through the backend's `OPEN` answer) to its watchlist's `ws:` channels
//! and receives one tick per message. Resuming from cursor `N` after a break: the first live tick
//! `S` proves the subscription active, so the client asks the backend for `[N, S)`
//! (`{"catchup":{"since":N,"until":S}}`), keeps the live ticks arriving meanwhile, and delivers
//! the catch-up before them: nothing lost, nothing twice, every tick through the sequence check.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tickbench_wire::framing::{decode_batch_ref, decode_tick_into};
use tickbench_wire::{now_micros, Transport};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

use super::nchan::ws::{connect, ws_url};
use super::sink::{ErrorKind, Sink};
use super::state::ClientState;
use crate::targets::grip_ws::CatchupAsk;

/// Live ticks kept while a catch-up is on its way; more means the backend is not answering.
const MAX_BUFFERED: usize = 10_000;

pub(crate) async fn run<S: Sink>(c: &mut ClientState<S>) {
    let stall = c.cfg.stream_timeout.max(Duration::from_secs(1));
    // Whether a tick was delivered: only then is there a cursor to resume from.
    let mut resumed = false;
    loop {
        c.begin_url(Transport::Ws.path());
        let url = ws_url(&c.url);
        c.sink.request();
        // Boxed, as in the Nchan client: the handshake's state would size every client's future.
        let opening = Box::pin(connect(&url, c.cfg.local_addr, &[]));
        let mut ws = match timeout(stall, opening).await {
            Err(_) => {
                c.fail(ErrorKind::Timeout.into()).await;
                continue;
            }
            Ok(Err(kind)) => {
                c.fail(kind.into()).await;
                continue;
            }
            Ok(Ok(ws)) => ws,
        };
        c.established();
        // The resume point, until its catch-up is delivered.
        let mut since = if resumed { c.cursor } else { None };
        // The first live tick's seq, once the catch-up was asked for.
        let mut until: Option<u64> = None;
        let mut buffered: Vec<String> = Vec::new();
        let failed = loop {
            let m = match timeout(stall, ws.next()).await {
                Err(_) => break ErrorKind::Timeout,
                Ok(None | Some(Err(_))) => break ErrorKind::Io,
                Ok(Some(Ok(m))) => m,
            };
            let text = match m {
                Message::Text(t) => t,
                Message::Close(_) => break ErrorKind::Io,
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {
                    continue
                }
            };
            c.sink.bytes(text.len() as u64);
            let recv_us = now_micros();
            if text.starts_with("{\"next\"") {
                // The catch-up: its ticks, then the live ones kept meanwhile.
                let Ok(batch) = decode_batch_ref(text.as_bytes()) else {
                    break ErrorKind::Parse;
                };
                if let Some(g) = batch.gap {
                    c.gap(g);
                }
                for t in &batch.ticks {
                    t.write_into(&mut c.tick);
                    c.deliver_tick(recv_us);
                }
                // Catch-ups come in messages of a few KiB; the last one's `next` is `until`.
                if until.is_some_and(|u| batch.next >= u) {
                    since = None;
                    until = None;
                    for live in std::mem::take(&mut buffered) {
                        if decode_tick_into(live.as_bytes(), &mut c.tick).is_err() {
                            break;
                        }
                        c.deliver_tick(recv_us);
                    }
                }
                continue;
            }
            if decode_tick_into(text.as_bytes(), &mut c.tick).is_err() {
                break ErrorKind::Parse;
            }
            match since {
                None => {
                    c.deliver_tick(recv_us);
                    resumed = true;
                }
                Some(n) => {
                    if until.is_none() {
                        until = Some(c.tick.seq);
                        let ask = CatchupAsk {
                            since: n,
                            until: c.tick.seq,
                        };
                        if ws.send(Message::text(ask.encode())).await.is_err() {
                            break ErrorKind::Io;
                        }
                    }
                    if buffered.len() >= MAX_BUFFERED {
                        break ErrorKind::Timeout;
                    }
                    buffered.push(text.as_str().to_string());
                }
            }
        };
        drop(ws);
        c.fail(failed.into()).await;
    }
}
