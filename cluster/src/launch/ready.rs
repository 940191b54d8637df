//! Waiting for a started process to be ready: a line in its log (nats-server's "Server is
//! ready", the feed's "feeding", an edge's "listening on URL", an agent's "agent NAME on"), an
//! edge answering `GET /healthz`, the agents answering the coordinator's hello over NATS. A
//! process that exits while it is waited for is an error quoting the end of its log.
//!
//! With `--netns` the requests are made from a thread inside the control namespace
//! ([`crate::netns::run_in`]), as any host on the bridge would make them.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;

use super::spawn::tail;
use super::state::Proc;
use crate::agent::plan::HELLO;
use crate::error::Error;

/// Waits until `p`'s log has a line containing `needle`; returns that line.
pub fn log_line(p: &Proc, needle: &str, limit: Duration) -> Result<String, Error> {
    let t0 = Instant::now();
    loop {
        let text = std::fs::read_to_string(&p.log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(needle)) {
            return Ok(line.to_string());
        }
        if !p.alive() {
            return Err(Error::Launch(format!(
                "{} (pid {}) exited: {}",
                p.name,
                p.pid,
                tail(&p.log, 5)
            )));
        }
        if t0.elapsed() > limit {
            return Err(Error::Launch(format!(
                "{} did not say {needle:?} within {limit:?}; see {}",
                p.name,
                p.log.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One `GET /healthz` of the edge at `addr`: its journal head (`next`), or why not.
pub fn healthz(addr: SocketAddr) -> Result<u64, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    s.write_all(format!("GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut body = String::new();
    s.read_to_string(&mut body).map_err(|e| e.to_string())?;
    if !body.starts_with("HTTP/1.1 200") && !body.starts_with("HTTP/1.0 200") {
        return Err(body.lines().next().unwrap_or("no answer").to_string());
    }
    let json = body.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v["next"].as_u64())
        .ok_or_else(|| format!("not a healthz answer: {json}"))
}

/// Waits (in the calling thread's namespace) until the edge at `addr` answers `/healthz`.
pub fn edge_answers(p: &Proc, addr: SocketAddr, limit: Duration) -> Result<(), Error> {
    let t0 = Instant::now();
    loop {
        let why = match healthz(addr) {
            Ok(_) => return Ok(()),
            Err(why) => why,
        };
        if !p.alive() {
            return Err(Error::Launch(format!(
                "{} exited: {}",
                p.name,
                tail(&p.log, 5)
            )));
        }
        if t0.elapsed() > limit {
            return Err(Error::Launch(format!(
                "{} at {addr} did not answer /healthz within {limit:?}: {why}",
                p.name
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (in the calling thread's namespace) until every agent in `names` answered the hello
/// `tickbench coordinate` sends, over the NATS at `url`.
pub fn agents_hello(url: &str, names: &[String], limit: Duration) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let want: BTreeSet<String> = names.iter().cloned().collect();
    rt.block_on(async move {
        let err = |e: &dyn std::fmt::Display| Error::Launch(format!("agents' hello: {e}"));
        let client = tickbench_server::feed::nats::connect(url).await?;
        let inbox = client.new_inbox();
        let mut replies = client.subscribe(inbox.clone()).await.map_err(|e| err(&e))?;
        let t0 = Instant::now();
        let mut seen = BTreeSet::new();
        while !want.is_subset(&seen) {
            if t0.elapsed() > limit {
                let missing: Vec<_> = want.difference(&seen).cloned().collect();
                return Err(Error::Launch(format!(
                    "agents {} did not answer hello within {limit:?}",
                    missing.join(", ")
                )));
            }
            client
                .publish_with_reply(HELLO, inbox.clone(), "".into())
                .await
                .map_err(|e| err(&e))?;
            let round = tokio::time::sleep(Duration::from_millis(300));
            tokio::pin!(round);
            loop {
                tokio::select! {
                    Some(m) = replies.next() => {
                        seen.insert(String::from_utf8_lossy(&m.payload).into_owned());
                    }
                    () = &mut round => break,
                }
            }
        }
        Ok(())
    })
}
