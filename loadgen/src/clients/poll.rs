//! Interval polling (`GET /poll?since=`), and JSONP (the same endpoint with `callback=`).
//!
//! The schedule, not the answers, drives the requests: the k-th poll is due at
//! `start + k·interval` (the start phase is jittered so clients do not poll in lockstep). If an
//! answer comes back late the next poll fires at once and the lateness goes to
//! [`Sink::schedule_lag`]: a slow server must show up as lag, not silently stretch the interval
//! (coordinated omission).

use std::time::Duration;

use tickbench_wire::framing::{decode_batch_ref, jsonp};
use tickbench_wire::now_micros;
use tokio::time::Instant;

use super::sink::{ErrorKind, Sink};
use super::state::ClientState;

/// Per-request timeout beyond the interval: an answer that takes this long is an error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) async fn run<S: Sink>(c: &mut ClientState<S>, jsonp: bool) {
    let interval = c.cfg.poll_interval.max(Duration::from_millis(1));
    let mut due = Instant::now() + c.jitter(interval);
    // One request timer for the client's life, moved forward before each request, instead of a
    // fresh boxed timer per request (reqwest's `.timeout()`): moving a pending timer later is a
    // store, registering a new one takes the timer driver's lock.
    let deadline = tokio::time::sleep(REQUEST_TIMEOUT + interval);
    tokio::pin!(deadline);
    loop {
        tokio::time::sleep_until(due).await;
        let lag = Instant::now().saturating_duration_since(due);
        c.sink.schedule_lag(lag.as_micros() as u64);
        due += interval;

        c.begin_url(c.cfg.transport.path());
        if jsonp {
            super::http::push_param(&mut c.url, "callback", jsonp::CALLBACK);
        }
        let req = c.http.get(c.url.as_str());
        deadline
            .as_mut()
            .reset(Instant::now() + REQUEST_TIMEOUT + interval);
        let fetched = tokio::select! {
            biased;
            r = c.fetch(req) => r,
            () = &mut deadline => Err(ErrorKind::Timeout.into()),
        };
        let res = match fetched {
            Ok(body) => {
                let json = if jsonp {
                    jsonp::strip_jsonp(&body, jsonp::CALLBACK).ok()
                } else {
                    Some(&body[..])
                };
                let parsed = json.and_then(|j| decode_batch_ref(j).ok());
                let recv_us = now_micros();
                parsed
                    .map(|b| c.deliver_batch(&b, recv_us))
                    .ok_or(ErrorKind::Parse.into())
            }
            Err(f) => Err(f),
        };
        if let Err(f) = res {
            c.fail(f).await;
            // The backoff is not the generator's lateness: restart the schedule after it.
            due = Instant::now();
        }
    }
}
