//! [`LinkAxis`]: one value of an experiment's `links` axis, how the cell's clients reach the
//! server (HTTP/1.1 or HTTP/2, TLS or not, tabs per connection), checked as it is read so an
//! error carries the TOML span.

use serde::{Deserialize, Deserializer, Serialize};
use tickbench_wire::{HttpVersion, Link};

/// `{ protocol = "h2", tls = true, tabs_per_conn = 100 }`; every key optional (HTTP/1.1,
/// plaintext, one client per connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LinkAxis(pub Link);

/// The table as written: unknown keys rejected.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    #[serde(default)]
    protocol: HttpVersion,
    #[serde(default)]
    tls: bool,
    #[serde(default = "one")]
    tabs_per_conn: u32,
}

fn one() -> u32 {
    1
}

impl<'de> Deserialize<'de> for LinkAxis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Written::deserialize(d)?;
        if !(1..=10_000).contains(&w.tabs_per_conn) {
            return Err(serde::de::Error::custom(format!(
                "tabs_per_conn must be 1 to 10000, got {}",
                w.tabs_per_conn
            )));
        }
        if w.tabs_per_conn > 1 && w.protocol != HttpVersion::H2 {
            return Err(serde::de::Error::custom(
                "tabs_per_conn > 1 needs protocol = \"h2\": only HTTP/2 multiplexes one \
                 connection",
            ));
        }
        Ok(LinkAxis(Link {
            protocol: w.protocol,
            tls: w.tls,
            tabs_per_conn: w.tabs_per_conn,
        }))
    }
}

/// `h1`, `h2-tls-t100`: the link's part of a cell id.
pub(crate) fn id_part(l: &Link) -> String {
    let mut s = l.protocol.name().to_string();
    if l.tls {
        s.push_str("-tls");
    }
    if l.tabs_per_conn > 1 {
        s.push_str(&format!("-t{}", l.tabs_per_conn));
    }
    s
}
