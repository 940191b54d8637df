//! The validated values of an experiment file: newtypes whose `Deserialize` rejects bad input, so
//! every error carries the TOML span of the value at fault.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
/// `[a-z0-9_-]{1,64}`: safe in a folder name on every OS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Name(pub String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Name(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "name '{s}' must be 1-64 characters of a-z, 0-9, '-' or '_'"
            )))
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A list that must have at least one element.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct NonEmpty<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NonEmpty<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<T>::deserialize(d)?;
        if v.is_empty() {
            Err(serde::de::Error::custom("the list must not be empty"))
        } else {
            Ok(NonEmpty(v))
        }
    }
}

/// An integer ≥ 1 (clients, repetitions, watch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if (1..=1_000_000).contains(&v) {
            Ok(Count(v as u64))
        } else {
            Err(serde::de::Error::custom(format!(
                "{v} is out of range: expected an integer from 1 to 1000000"
            )))
        }
    }
}

/// A finite number > 0 (tick rate, action rate). Integers are accepted (`rate = [1, 5]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Positive(pub f64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Num {
            I(i64),
            F(f64),
        }
        let v =
            match Num::deserialize(d).map_err(|_| serde::de::Error::custom("expected a number"))? {
                Num::I(i) => i as f64,
                Num::F(f) => f,
            };
        if v.is_finite() && v > 0.0 && v <= 1e6 {
            Ok(Positive(v))
        } else {
            Err(serde::de::Error::custom(format!(
                "{v} is out of range: expected a number > 0 and <= 1000000"
            )))
        }
    }
}

/// A humantime duration string (`"2s"`, `"500ms"`, `"1m 30s"`), zero allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map(Dur).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration '{s}': {e} (write e.g. \"2s\", \"500ms\", \"1m\")"
            ))
        })
    }
}

/// A duration > 0 (the measured window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonZeroDur(pub Duration);

impl Serialize for NonZeroDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Dur(self.0).serialize(s)
    }
}

impl<'de> Deserialize<'de> for NonZeroDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Dur(v) = Dur::deserialize(d)?;
        if v.is_zero() {
            Err(serde::de::Error::custom(
                "the duration must be greater than 0",
            ))
        } else {
            Ok(NonZeroDur(v))
        }
    }
}

/// Long-poll hold timeout: whole seconds 1-120, as the server accepts (docs/protocol.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongpollTimeout(pub Duration);

impl Serialize for LongpollTimeout {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Dur(self.0).serialize(s)
    }
}

impl<'de> Deserialize<'de> for LongpollTimeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Dur(v) = Dur::deserialize(d)?;
        if v.subsec_nanos() == 0 && (1..=120).contains(&v.as_secs()) {
            Ok(LongpollTimeout(v))
        } else {
            Err(serde::de::Error::custom(
                "longpoll_timeout must be whole seconds from 1s to 120s",
            ))
        }
    }
}

/// `Option<Duration>` as a humantime string in sweep.json (`#[serde(with = ...)]`).
pub mod opt_duration {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&Dur(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<Dur>::deserialize(d)?.map(|d| d.0))
    }
}
