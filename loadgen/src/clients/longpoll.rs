//! Long polling (`GET /longpoll?since=&timeout=`): the server holds the request until a matching
//! tick exists (or the hold expires with an empty answer and an advanced cursor); the client
//! re-issues it at once after every answer, so at most one round trip of latency is added.

use std::time::Duration;

use tickbench_wire::framing::decode_batch_ref;
use tickbench_wire::now_micros;

use super::http::push_param;
use super::sink::{ErrorKind, Sink};
use super::state::ClientState;

/// Beyond the hold the client asked for, how long to wait for the answer before calling it a
/// timeout (the server answers an expired hold itself, so this only fires on a stuck server).
pub const GRACE: Duration = Duration::from_secs(10);

pub(crate) async fn run<S: Sink>(c: &mut ClientState<S>) {
    let hold = c.cfg.longpoll_timeout.as_secs().clamp(1, 120);
    loop {
        c.begin_url(c.cfg.transport.path());
        push_param(&mut c.url, "timeout", hold);
        let req = c
            .http
            .get(c.url.as_str())
            .timeout(Duration::from_secs(hold) + GRACE);
        let res = match c.fetch(req).await {
            Ok(body) => {
                let parsed = decode_batch_ref(&body);
                let recv_us = now_micros();
                match parsed {
                    Ok(b) => {
                        c.deliver_batch(&b, recv_us);
                        Ok(())
                    }
                    Err(_) => Err(ErrorKind::Parse.into()),
                }
            }
            Err(f) => Err(f),
        };
        if let Err(f) = res {
            c.fail(f).await;
        }
    }
}
