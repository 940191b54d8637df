//! The experiment's `watch`: symbols per client, as a count or `"all"` (every symbol; on the peers
//! one `_all` channel, since Nchan multiplexes at most 255 channels per subscriber).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::values::Count;

/// `watch`: a count of symbols per client, or `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchSpec {
    Count(Count),
    All,
}

impl std::fmt::Display for WatchSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchSpec::Count(c) => write!(f, "{}", c.0),
            WatchSpec::All => f.write_str("all"),
        }
    }
}

impl Serialize for WatchSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            WatchSpec::Count(c) => c.serialize(s),
            WatchSpec::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for WatchSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(i64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::S(s) if s == "all" => Ok(WatchSpec::All),
            Raw::S(s) => Err(serde::de::Error::custom(format!(
                "watch = \"{s}\": expected a number of symbols or \"all\""
            ))),
            Raw::N(n) => Count::deserialize(serde::de::value::I64Deserializer::<D::Error>::new(n))
                .map(WatchSpec::Count),
        }
    }
}
