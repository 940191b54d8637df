//! Nchan's side of a subscription: the subscriber URL (multiplexed channels), the request header
//! that picks each transport on its one `nchan_subscriber` location, and its message-id cursor.
//!
//! Nchan ids are `time:tag` (for a multiplexed subscriber, one tag per channel, e.g.
//! `1796032037:[0],-`): opaque to a client, which only sends back the last one it got — as
//! `Last-Event-ID` (EventSource), or as `If-Modified-Since` + `If-None-Match` from the last
//! answer's or part's `Last-Modified` + `Etag` (long-poll, multipart/mixed). The chunked transport
//! carries no id, so a chunked client that reconnects starts from now and its loss is counted.

use tickbench_wire::Transport;

use super::channels;

/// `base/sub/A,B,C` (or `base/sub/_all`).
pub fn subscribe_url(base: &str, watchlist: Option<&[String]>) -> String {
    format!(
        "{}/sub/{}",
        base.trim_end_matches('/'),
        channels(watchlist).join(",")
    )
}

/// `base/pub/CHANNEL`: one POST publishes one message.
pub fn publish_url(base: &str, channel: &str) -> String {
    format!("{}/pub/{channel}", base.trim_end_matches('/'))
}

/// The request header that selects `transport` on a subscriber location (`None`: long-poll, the
/// default, or a transport Nchan lacks).
pub const fn transport_header(transport: Transport) -> Option<(&'static str, &'static str)> {
    match transport {
        Transport::Sse => Some(("accept", "text/event-stream")),
        Transport::Multipart => Some(("accept", "multipart/mixed")),
        Transport::Stream => Some(("te", "chunked")),
        Transport::Longpoll
        | Transport::Poll
        | Transport::Jsonp
        | Transport::Piggyback
        | Transport::Iframe
        | Transport::Ws => None,
    }
}

/// Where a Nchan subscriber is in its channels' message queues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// EventSource: the last `id:`.
    pub event_id: Option<String>,
    /// Long-poll and multipart: the last message's `Last-Modified` and `Etag`.
    pub time_tag: Option<(String, String)>,
}

impl Cursor {
    /// The headers that resume from this cursor.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = Vec::new();
        if let Some(id) = &self.event_id {
            h.push(("last-event-id", id.clone()));
        }
        if let Some((time, tag)) = &self.time_tag {
            h.push(("if-modified-since", time.clone()));
            h.push(("if-none-match", tag.clone()));
        }
        h
    }

    /// Records a long-poll answer's `Last-Modified` and `Etag`.
    pub fn set_time_tag(&mut self, time: Option<&str>, tag: Option<&str>) {
        if let (Some(t), Some(g)) = (time, tag) {
            self.time_tag = Some((t.trim().to_string(), g.trim().to_string()));
        }
    }

    /// Records a multipart part's `Last-Modified` and `Etag` as the message id `time:tags`, sent
    /// back as `Last-Event-ID`. A multiplexed part's `Etag` holds only its own channel's tag
    /// (`-,[3],-`) where EventSource ids carry every channel's (`5,[3],0`); the tags are merged
    /// here as Nchan merges a subscriber's own id (`nchan_update_multi_msgid`): a part of the same
    /// second keeps the other channels' tags, a part of a newer second replaces them all, the
    /// others becoming `-`, which Nchan reads as "from the start of that second". (Keeping an
    /// older second's tag under the newer time, as this did before, asked Nchan for that channel
    /// from the newer second's tag on: its messages of that second up to the tag were skipped,
    /// the occasional multipart gap on resume.)
    pub fn set_part_id(&mut self, time: Option<&str>, tag: Option<&str>) {
        let secs = time.and_then(|t| chrono::DateTime::parse_from_rfc2822(t.trim()).ok());
        let (Some(secs), Some(tag)) = (secs, tag) else {
            return;
        };
        let secs = secs.timestamp();
        let new: Vec<&str> = tag.trim().split(',').collect();
        let old: Option<(i64, Vec<String>)> = self
            .event_id
            .as_deref()
            .and_then(|id| id.split_once(':'))
            .and_then(|(t, tags)| {
                Some((
                    t.parse().ok()?,
                    tags.split(',').map(str::to_string).collect(),
                ))
            });
        let merged: Vec<String> = match old {
            Some((t, old)) if t == secs && old.len() == new.len() => new
                .iter()
                .zip(&old)
                .map(|(n, o)| match *n {
                    "-" => o.trim_matches(|c| c == '[' || c == ']').to_string(),
                    n => n.to_string(),
                })
                .collect(),
            _ => new.iter().map(|t| t.to_string()).collect(),
        };
        self.event_id = Some(format!("{secs}:{}", merged.join(",")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_cursors() {
        let w = vec!["AAPL".to_string(), "BRK.B".to_string()];
        assert_eq!(
            subscribe_url("http://h:1/", Some(&w)),
            "http://h:1/sub/AAPL,BRK.B"
        );
        assert_eq!(subscribe_url("http://h:1", None), "http://h:1/sub/_all");
        assert_eq!(publish_url("http://h:1", "_all"), "http://h:1/pub/_all");
        let mut c = Cursor::default();
        assert!(c.headers().is_empty());
        c.set_time_tag(Some("Mon, 30 Nov 2026 09:47:17 GMT"), Some("[0],-"));
        assert_eq!(c.headers()[1], ("if-none-match", "[0],-".to_string()));
        assert_eq!(transport_header(Transport::Stream), Some(("te", "chunked")));
        let mut p = Cursor::default();
        p.set_part_id(Some("Mon, 30 Nov 2026 09:47:17 GMT"), Some("[0],-"));
        assert_eq!(p.event_id.as_deref(), Some("1796032037:[0],-"));
        p.set_part_id(Some("Mon, 30 Nov 2026 09:47:17 GMT"), Some("-,[0]"));
        assert_eq!(
            p.event_id.as_deref(),
            Some("1796032037:0,[0]"),
            "same second: merged"
        );
        p.set_part_id(Some("Mon, 30 Nov 2026 09:47:18 GMT"), Some("[0],-"));
        assert_eq!(
            p.event_id.as_deref(),
            Some("1796032038:[0],-"),
            "newer second: the other channel from that second's start"
        );
    }
}
