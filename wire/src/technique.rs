//! The browser page's techniques: how a browser of each technique's era consumes a transport
//! (`/?transport=NAME` selects one), and which facts the page, its server route and the browser
//! driver share about each.
//!
//! A technique is not a [`Transport`]: the page reads `/stream` two ways (a `fetch` stream reader
//! and the historical XHR `readyState 3`), and the WebSocket technique's server side is being
//! added separately. Each technique names the server endpoint it reads.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::transport::Transport;

/// One way the page gets ticks. The order is the order `tickbench browser` opens them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// `XMLHttpRequest` to `/poll` on a fixed interval.
    Poll,
    /// A `<script src="/poll?callback=..">` inserted on a fixed interval.
    Jsonp,
    /// Quote lookups and orders (the user's, or a simulated schedule) whose answers carry ticks.
    Piggyback,
    /// `XMLHttpRequest` to `/longpoll`, re-issued as soon as it answers.
    Longpoll,
    /// `fetch('/stream')` read through `response.body.getReader()`, NDJSON lines.
    Stream,
    /// `XMLHttpRequest` to `/stream` read at `readyState 3` (`onprogress`), the pre-fetch way.
    StreamXhr,
    /// `EventSource('/sse')`, native reconnect with `Last-Event-ID`.
    Sse,
    /// `fetch('/multipart')` read through a stream reader, one part per tick.
    Multipart,
    /// A hidden `<iframe src="/iframe">` whose script chunks call `parent.tick(..)`.
    Iframe,
    /// `WebSocket('/ws')`, one text frame per tick.
    Ws,
}

impl Technique {
    /// How many techniques there are.
    pub const COUNT: usize = 10;

    /// Every technique, in the order `tickbench browser` opens them.
    pub const ALL: [Technique; Technique::COUNT] = [
        Technique::Poll,
        Technique::Jsonp,
        Technique::Piggyback,
        Technique::Longpoll,
        Technique::Stream,
        Technique::StreamXhr,
        Technique::Sse,
        Technique::Multipart,
        Technique::Iframe,
        Technique::Ws,
    ];

    /// The name in `/?transport=`, in `--transports` and in `summary.json`.
    pub const fn name(self) -> &'static str {
        match self {
            Technique::Poll => "poll",
            Technique::Jsonp => "jsonp",
            Technique::Piggyback => "piggyback",
            Technique::Longpoll => "longpoll",
            Technique::Stream => "stream",
            Technique::StreamXhr => "stream-xhr",
            Technique::Sse => "sse",
            Technique::Multipart => "multipart",
            Technique::Iframe => "iframe",
            Technique::Ws => "ws",
        }
    }

    /// The server transport whose endpoint it reads (`None` would mark a technique the server
    /// does not serve; every one is served today).
    pub const fn transport(self) -> Option<Transport> {
        match self {
            Technique::Poll => Some(Transport::Poll),
            Technique::Jsonp => Some(Transport::Jsonp),
            Technique::Piggyback => Some(Transport::Piggyback),
            Technique::Longpoll => Some(Transport::Longpoll),
            Technique::Stream | Technique::StreamXhr => Some(Transport::Stream),
            Technique::Sse => Some(Transport::Sse),
            Technique::Multipart => Some(Transport::Multipart),
            Technique::Iframe => Some(Transport::Iframe),
            Technique::Ws => Some(Transport::Ws),
        }
    }

    /// True when it keeps an HTTP connection busy all the time (a held request or an open
    /// response), so over HTTP/1.1 it takes one of the browser's 6 connections per origin for
    /// good. A WebSocket is not counted: browsers pool it apart from HTTP connections.
    pub const fn holds_connection(self) -> bool {
        match self {
            Technique::Longpoll
            | Technique::Stream
            | Technique::StreamXhr
            | Technique::Sse
            | Technique::Multipart
            | Technique::Iframe => true,
            Technique::Poll | Technique::Jsonp | Technique::Piggyback | Technique::Ws => false,
        }
    }

    /// "poll, jsonp, …": every name, for help texts and error messages.
    pub fn names() -> String {
        Technique::ALL.map(Technique::name).join(", ")
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown technique name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown technique '{0}' (expected one of: {names})", names = Technique::names())]
pub struct ParseTechniqueError(pub String);

impl FromStr for Technique {
    type Err = ParseTechniqueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Technique::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseTechniqueError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in Technique::ALL {
            assert_eq!(t.name().parse::<Technique>().unwrap(), t);
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.name())
            );
        }
        assert!("smoke-signals".parse::<Technique>().is_err());
    }

    #[test]
    fn every_transport_has_a_technique() {
        for tr in Transport::ALL {
            assert!(
                Technique::ALL.iter().any(|t| t.transport() == Some(tr)),
                "{tr} has no page technique"
            );
        }
    }
}
