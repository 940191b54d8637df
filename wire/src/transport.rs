//! The push techniques tickbench serves and measures, and every fact about each one.
//!
//! Everything that differs between transports and is not code of its own (the endpoint, how a
//! client resumes, how a chart draws it, which key selects it, whether its latency is bound by a
//! schedule) is answered here, by exhaustive `match`es with no `_ =>` arm. Adding a variant makes
//! the compiler list each fact to decide, and the rest of the workspace asks these methods (or
//! matches exhaustively itself where a transport has code of its own: its server handler, its
//! client loop, its framing), so the compiler lists those places too.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One push technique. The order is the order of a default run and of the TUI's number keys.
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
    /// `GET /ws`: a WebSocket, one text frame per tick, watchlist changed live by the client.
    Ws,
}

/// How a transport gets ticks to a client: what its latency is made of and what its phase
/// measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The client asks on its own schedule and gets what is there (latency ≈ half the interval).
    Polled,
    /// Ticks ride on answers to the client's own application requests (latency ≈ its action gap).
    Piggyback,
    /// One request is held open until a tick matches, then answered and re-issued.
    Held,
    /// One response stays open and the server pushes every tick into it.
    Stream,
    /// A full-duplex connection (WebSocket): the server pushes every tick, the client talks back
    /// on the same connection (watchlist changes, pongs).
    Duplex,
}

/// How a client that lost its connection tells the server where to continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resume {
    /// `?since=` the seq after the last one received (or the batch's `next`).
    Since,
    /// The `Last-Event-ID` header with the last event id received (the EventSource way); the
    /// server also takes `since`.
    LastEventId,
}

/// How a transport's response bytes are framed: one per format in [`crate::framing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// A JSON [`Batch`](crate::Batch) per response (`/poll`, `/longpoll`, piggyback answers).
    Batch,
    /// A JSON batch wrapped in a callback call, as a script.
    Jsonp,
    /// One JSON object per line.
    Ndjson,
    /// Server-Sent Events.
    Sse,
    /// multipart/x-mixed-replace parts.
    Multipart,
    /// `<script>parent.fn(..)</script>` chunks of an endless HTML page.
    Iframe,
    /// WebSocket text frames: a tick's JSON, a control object, or a catch-up batch each.
    WebSocket,
}

impl Transport {
    /// How many transports there are: the size of every per-transport array.
    pub const COUNT: usize = 9;

    /// Every transport, in run order.
    pub const ALL: [Transport; Transport::COUNT] = [
        Transport::Poll,
        Transport::Jsonp,
        Transport::Piggyback,
        Transport::Longpoll,
        Transport::Stream,
        Transport::Sse,
        Transport::Multipart,
        Transport::Iframe,
        Transport::Ws,
    ];

    /// Position in [`Transport::ALL`]: the index of per-transport arrays.
    pub const fn index(self) -> usize {
        match self {
            Transport::Poll => 0,
            Transport::Jsonp => 1,
            Transport::Piggyback => 2,
            Transport::Longpoll => 3,
            Transport::Stream => 4,
            Transport::Sse => 5,
            Transport::Multipart => 6,
            Transport::Iframe => 7,
            Transport::Ws => 8,
        }
    }

    /// The lowercase name used in flags, file names, metrics labels and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Transport::Poll => "poll",
            Transport::Jsonp => "jsonp",
            Transport::Piggyback => "piggyback",
            Transport::Longpoll => "longpoll",
            Transport::Stream => "stream",
            Transport::Sse => "sse",
            Transport::Multipart => "multipart",
            Transport::Iframe => "iframe",
            Transport::Ws => "ws",
        }
    }

    /// The endpoint a client of this transport requests (piggyback's ticks ride on the
    /// application endpoints, of which the quote lookup is the one a client starts with).
    pub const fn path(self) -> &'static str {
        match self {
            Transport::Poll | Transport::Jsonp => "/poll",
            Transport::Piggyback => "/api/quote",
            Transport::Longpoll => "/longpoll",
            Transport::Stream => "/stream",
            Transport::Sse => "/sse",
            Transport::Multipart => "/multipart",
            Transport::Iframe => "/iframe",
            Transport::Ws => "/ws",
        }
    }

    /// How ticks get to a client of this transport.
    pub const fn kind(self) -> Kind {
        match self {
            Transport::Poll | Transport::Jsonp => Kind::Polled,
            Transport::Piggyback => Kind::Piggyback,
            Transport::Longpoll => Kind::Held,
            Transport::Stream | Transport::Sse | Transport::Multipart | Transport::Iframe => {
                Kind::Stream
            }
            Transport::Ws => Kind::Duplex,
        }
    }

    /// How a client of this transport resumes after losing its connection.
    pub const fn resume(self) -> Resume {
        match self {
            Transport::Sse => Resume::LastEventId,
            Transport::Poll
            | Transport::Jsonp
            | Transport::Piggyback
            | Transport::Longpoll
            | Transport::Stream
            | Transport::Multipart
            | Transport::Iframe
            | Transport::Ws => Resume::Since,
        }
    }

    /// How this transport's responses are framed.
    pub const fn framing(self) -> Framing {
        match self {
            Transport::Poll | Transport::Piggyback | Transport::Longpoll => Framing::Batch,
            Transport::Jsonp => Framing::Jsonp,
            Transport::Stream => Framing::Ndjson,
            Transport::Sse => Framing::Sse,
            Transport::Multipart => Framing::Multipart,
            Transport::Iframe => Framing::Iframe,
            Transport::Ws => Framing::WebSocket,
        }
    }

    /// Its colour in every chart (SVG and terminal), as RGB: one colour per transport across all
    /// of a run's pictures, so a reader learns it once. (The "category10" palette.)
    pub const fn colour(self) -> (u8, u8, u8) {
        match self {
            Transport::Poll => (31, 119, 180),
            Transport::Jsonp => (255, 127, 14),
            Transport::Piggyback => (44, 160, 44),
            Transport::Longpoll => (214, 39, 40),
            Transport::Stream => (148, 103, 189),
            Transport::Sse => (140, 86, 75),
            Transport::Multipart => (227, 119, 194),
            Transport::Iframe => (23, 190, 207),
            Transport::Ws => (188, 189, 34),
        }
    }

    /// The key that selects it in the terminal viewer.
    pub const fn key(self) -> char {
        match self {
            Transport::Poll => '1',
            Transport::Jsonp => '2',
            Transport::Piggyback => '3',
            Transport::Longpoll => '4',
            Transport::Stream => '5',
            Transport::Sse => '6',
            Transport::Multipart => '7',
            Transport::Iframe => '8',
            Transport::Ws => '9',
        }
    }

    /// The transport the viewer key `c` selects.
    pub fn from_key(c: char) -> Option<Transport> {
        Transport::ALL.into_iter().find(|t| t.key() == c)
    }

    /// True when the latency is set by the client's own schedule (a poll interval, an action
    /// rate) rather than by the server's push path: such latency is compared with itself, never
    /// with the loopback floor.
    pub const fn schedule_bound(self) -> bool {
        match self.kind() {
            Kind::Polled | Kind::Piggyback => true,
            Kind::Held | Kind::Stream | Kind::Duplex => false,
        }
    }

    /// "poll, jsonp, …": every name, for help texts and error messages.
    pub fn names() -> String {
        Transport::ALL.map(Transport::name).join(", ")
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown transport name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport '{0}' (expected one of: {names})", names = Transport::names())]
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

    #[test]
    fn index_keys_and_colours_are_distinct() {
        for (i, t) in Transport::ALL.into_iter().enumerate() {
            assert_eq!(t.index(), i);
            assert_eq!(Transport::from_key(t.key()), Some(t));
        }
        let mut colours: Vec<_> = Transport::ALL.map(Transport::colour).to_vec();
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), Transport::COUNT);
    }

    #[test]
    fn error_lists_every_name() {
        let e = "x".parse::<Transport>().unwrap_err().to_string();
        for t in Transport::ALL {
            assert!(e.contains(t.name()), "{e}");
        }
    }
}
