//! The push techniques tickbench serves and measures.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One classic "Comet" technique. The order is the order of a default run and of the TUI's 1–8 keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `GET /poll?since=` every interval.
    Poll,
    /// `GET /poll?since=&callback=fn` every interval, answered as a script.
    Jsonp,
    /// Ticks ride on the answers to the client's own application requests.
    Piggyback,
    /// `GET /longpoll?since=` held until a tick matches, re-issued at once.
    Longpoll,
    /// `GET /stream`: chunked NDJSON.
    Stream,
    /// `GET /sse`: Server-Sent Events.
    Sse,
    /// `GET /multipart`: multipart/x-mixed-replace.
    Multipart,
    /// `GET /iframe`: forever-iframe script chunks.
    Iframe,
}

impl Transport {
    /// Every transport, in run order.
    pub const ALL: [Transport; 8] = [
        Transport::Poll,
        Transport::Jsonp,
        Transport::Piggyback,
        Transport::Longpoll,
        Transport::Stream,
        Transport::Sse,
        Transport::Multipart,
        Transport::Iframe,
    ];

    /// The lowercase name used in flags, file names and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Poll => "poll",
            Transport::Jsonp => "jsonp",
            Transport::Piggyback => "piggyback",
            Transport::Longpoll => "longpoll",
            Transport::Stream => "stream",
            Transport::Sse => "sse",
            Transport::Multipart => "multipart",
            Transport::Iframe => "iframe",
        }
    }

    /// True for the transports that hold one response open and push into it.
    pub fn is_streaming(self) -> bool {
        matches!(
            self,
            Transport::Stream | Transport::Sse | Transport::Multipart | Transport::Iframe
        )
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown transport name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport '{0}' (expected one of: poll, jsonp, piggyback, longpoll, stream, sse, multipart, iframe)")]
pub struct ParseTransportError(pub String);

impl FromStr for Transport {
    type Err = ParseTransportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Transport::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseTransportError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in Transport::ALL {
            assert_eq!(t.name().parse::<Transport>().unwrap(), t);
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.name())
            );
        }
        assert!("carrier-pigeon".parse::<Transport>().is_err());
    }
}
