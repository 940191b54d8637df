//! [`SourceAddrs`]: a range of local addresses the clients of a run connect from
//! (`run --source-addrs 127.0.0.2-127.0.0.9`), so that many clients to one edge do not exhaust
//! the ephemeral ports of one (source, destination) pair.

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

/// An inclusive range of IPv4 source addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceAddrs {
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
}

impl SourceAddrs {
    /// How many addresses the range holds.
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.last) - u32::from(self.first)) + 1
    }

    /// Never empty (the parser refuses `last < first`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Client `i`'s address: round-robin over the range.
    pub fn of(&self, i: u64) -> IpAddr {
        let k = (i % self.len()) as u32;
        IpAddr::V4(Ipv4Addr::from(u32::from(self.first) + k))
    }
}

impl FromStr for SourceAddrs {
    type Err = String;

    /// `A` or `A-B` (IPv4, `A` ≤ `B`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        let ip = |x: &str| {
            x.trim().parse::<Ipv4Addr>().map_err(|_| {
                format!("'{x}' is not an IPv4 address (want e.g. 127.0.0.2-127.0.0.9)")
            })
        };
        let (first, last) = (ip(a)?, ip(b)?);
        if last < first {
            return Err(format!("{last} comes before {first}"));
        }
        Ok(SourceAddrs { first, last })
    }
}

impl std::fmt::Display for SourceAddrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_round_robin() {
        let r: SourceAddrs = "127.0.0.2-127.0.0.4".parse().unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r.of(0), "127.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(r.of(4), "127.0.0.3".parse::<IpAddr>().unwrap());
        assert_eq!("10.0.0.1".parse::<SourceAddrs>().unwrap().len(), 1);
        assert!("127.0.0.4-127.0.0.2".parse::<SourceAddrs>().is_err());
        assert!("localhost".parse::<SourceAddrs>().is_err());
        assert_eq!(r.to_string(), "127.0.0.2-127.0.0.4");
    }
}
