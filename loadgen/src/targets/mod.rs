//! What a run can measure: tickbench's own server, nginx + Nchan, or Pushpin — how each is named on
//! the command line, which of tickbench's transports it has natively, and how a watchlist becomes
//! its channels.
//!
//! The two peers get tickbench's own seeded market: a publisher inside `run` ([`publish`]) reads
//! the embedded tickbench server's stream and publishes every tick (same `seq`, `sseq`, scheduled
//! `ts`) through the peer's publish API, one channel per symbol, plus [`ALL_CHANNEL`] for clients
//! that watch every symbol. Clients then subscribe on the peer with its own native transports and
//! cursors (`clients::nchan`; for Pushpin the GRIP backend [`grip`] speaks tickbench's protocol, so
//! tickbench's own HTTP client loops are Pushpin's; its WebSocket client is `clients::pushpin`).
//!
//! # Layout
//! - this file: [`TargetKind`], [`Target`] (`--target nchan+http://…`), [`channels`].
//! - [`nchan`]: Nchan's subscriber URL, request headers per transport and message-id cursor.
//! - [`journal`]: the ticks published so far, shared by the publisher and the GRIP backend.
//! - [`publish`]: the publisher: source stream in, the target's publish API out.
//! - [`grip`]: the GRIP backend Pushpin proxies subscriber requests to.
//! - [`grip_query`]: the request parameters it reads, and its JSON errors.
//! - [`grip_ws`]: its WebSocket-over-HTTP side (Pushpin's WebSocket clients).
//! - [`warm`]: the subscriptions that keep Pushpin sequencing every channel.

pub mod grip;
pub mod grip_query;
pub mod grip_ws;
pub mod journal;
pub mod nchan;
pub mod publish;
pub mod warm;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tickbench_wire::Transport;

/// The channel every tick is also published to when some client watches every symbol (Nchan
/// multiplexes at most 255 channels per subscriber and Pushpin's handler caps a connection's
/// subscriptions, so "all 500 symbols" is one channel, as a real deployment would do it).
pub const ALL_CHANNEL: &str = "_all";

/// Which server a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// `tickbench serve`, every transport.
    Tickbench,
    /// nginx with the Nchan module (`peers/nchan/nginx.conf`).
    Nchan,
    /// Pushpin in front of the GRIP backend inside `run` (`peers/pushpin/`).
    Pushpin,
}

impl TargetKind {
    /// Every target, in the order of a side-by-side report.
    pub const ALL: [TargetKind; 3] = [
        TargetKind::Tickbench,
        TargetKind::Nchan,
        TargetKind::Pushpin,
    ];

    /// The name used in flags, folder names and reports.
    pub const fn name(self) -> &'static str {
        match self {
            TargetKind::Tickbench => "tickbench",
            TargetKind::Nchan => "nchan",
            TargetKind::Pushpin => "pushpin",
        }
    }

    /// Whether this server has `transport` natively (its own protocol for it, no emulation).
    pub const fn native(self, transport: Transport) -> bool {
        match self {
            TargetKind::Tickbench => true,
            // One `nchan_subscriber` location: EventSource, long-poll, chunked (`TE: chunked`),
            // multipart/mixed and WebSocket (`ws+meta.nchan`); its interval-poll needs a location
            // without long-poll and has no JSONP, piggyback or iframe.
            TargetKind::Nchan => match transport {
                Transport::Sse
                | Transport::Longpoll
                | Transport::Stream
                | Transport::Multipart
                | Transport::Ws => true,
                Transport::Poll | Transport::Jsonp | Transport::Piggyback | Transport::Iframe => {
                    false
                }
            },
            // GRIP holds: a stream (SSE or plain HTTP streaming), a held response (long-poll),
            // and WebSocket-over-HTTP.
            TargetKind::Pushpin => match transport {
                Transport::Sse | Transport::Longpoll | Transport::Stream | Transport::Ws => true,
                Transport::Poll
                | Transport::Jsonp
                | Transport::Piggyback
                | Transport::Multipart
                | Transport::Iframe => false,
            },
        }
    }

    /// The transports of `wanted` this server lacks.
    pub fn lacks(self, wanted: &[Transport]) -> Vec<Transport> {
        wanted
            .iter()
            .copied()
            .filter(|t| !self.native(*t))
            .collect()
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TargetKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("'{s}' is not a target: use tickbench, nchan or pushpin"))
    }
}

/// A server to measure, as `--target` names it: `http://HOST:PORT` (tickbench),
/// `nchan+http://HOST:PORT` or `pushpin+http://HOST:PORT[?publish=PORT&backend=PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    /// Where clients connect, without a trailing slash.
    pub url: String,
    /// Pushpin: its HTTP publish port (default: the client port + 1, as `peer start` sets it).
    pub publish_port: Option<u16>,
    /// Pushpin: the port its route sends requests to, where `run` serves GRIP (default: the
    /// client port + 2).
    pub backend_port: Option<u16>,
}

impl Target {
    /// Parses `--target`.
    pub fn parse(s: &str) -> Result<Target, String> {
        let s = s.trim();
        let (kind, rest) = match s.split_once('+') {
            Some((k, rest)) => (k.parse::<TargetKind>()?, rest),
            None => (TargetKind::Tickbench, s),
        };
        let url = reqwest::Url::parse(rest).map_err(|_| format!("'{rest}' is not a URL"))?;
        // Our own server may be https:// (`serve --tls`); the peers are started plaintext.
        let https_ok = kind == TargetKind::Tickbench && url.scheme() == "https";
        if (url.scheme() != "http" && !https_ok) || url.host_str().is_none() {
            return Err(format!("'{rest}' is not an http:// URL"));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let mut publish_port = None;
        let mut backend_port = None;
        for (k, v) in url.query_pairs() {
            let p = v
                .parse::<u16>()
                .map_err(|_| format!("{k}={v} is not a port"))?;
            match &*k {
                "publish" => publish_port = Some(p),
                "backend" => backend_port = Some(p),
                _ => return Err(format!("unknown target parameter '{k}'")),
            }
        }
        if kind == TargetKind::Pushpin {
            publish_port = publish_port.or(port.checked_add(1));
            backend_port = backend_port.or(port.checked_add(2));
        }
        let base = format!("http://{}:{port}", url.host_str().unwrap_or("127.0.0.1"));
        Ok(Target {
            kind,
            url: base,
            publish_port,
            backend_port,
        })
    }

    /// The host clients connect to.
    pub fn host(&self) -> &str {
        self.url
            .trim_start_matches("http://")
            .rsplit_once(':')
            .map_or("127.0.0.1", |(h, _)| h)
    }
}

/// The channels a watchlist subscribes to: one per symbol, or [`ALL_CHANNEL`] for every symbol.
pub fn channels(watchlist: Option<&[String]>) -> Vec<&str> {
    match watchlist {
        Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
        _ => vec![ALL_CHANNEL],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let t = Target::parse("nchan+http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            (t.kind, t.url.as_str()),
            (TargetKind::Nchan, "http://127.0.0.1:8080")
        );
        let t = Target::parse("pushpin+http://127.0.0.1:7999").unwrap();
        assert_eq!((t.publish_port, t.backend_port), (Some(8000), Some(8001)));
        let t = Target::parse("pushpin+http://127.0.0.1:7999?publish=5561&backend=9000").unwrap();
        assert_eq!((t.publish_port, t.backend_port), (Some(5561), Some(9000)));
        assert_eq!(t.host(), "127.0.0.1");
        assert_eq!(
            Target::parse("http://h:1").unwrap().kind,
            TargetKind::Tickbench
        );
        assert!(Target::parse("redis+http://h:1").is_err());
        assert!(Target::parse("nchan+ftp://h:1").is_err());
        assert!(Target::parse("pushpin+http://h:1?x=1").is_err());
    }

    #[test]
    fn natives_and_channels() {
        assert!(TargetKind::Nchan.native(Transport::Multipart));
        assert!(!TargetKind::Pushpin.native(Transport::Multipart));
        assert!(
            TargetKind::Nchan.native(Transport::Ws) && TargetKind::Pushpin.native(Transport::Ws)
        );
        assert_eq!(
            TargetKind::Pushpin.lacks(&[Transport::Sse, Transport::Iframe]),
            vec![Transport::Iframe]
        );
        assert_eq!(channels(None), vec![ALL_CHANNEL]);
        let w = vec!["A".to_string(), "B".to_string()];
        assert_eq!(channels(Some(&w)), vec!["A", "B"]);
    }
}
