//! Creating the feed's JetStream stream, or adopting the one an earlier feed left: its
//! [`StreamMeta`] says which market it carries, and flags that contradict it are refused rather
//! than silently starting a different market on the same sequence.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use tickbench_server::feed::nats::{StreamMeta, STREAM, SUBJECT_PREFIX};

use crate::error::Error;

/// How long JetStream remembers a `Nats-Msg-Id` to drop a re-sent tick.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The market a feed asks for; `None` = the stream's (or the default for a new stream).
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub seed: Option<u64>,
    pub symbols: Option<usize>,
    pub rate: Option<f64>,
    pub retain: Option<usize>,
}

/// A new stream's defaults: `tickbench serve`'s.
const DEFAULT_SEED: u64 = 1;
const DEFAULT_SYMBOLS: usize = 500;
const DEFAULT_RATE: f64 = 100.0;
const DEFAULT_RETAIN: usize = 1_000_000;

/// The stream and its market, and the newest tick it holds (0 when empty).
pub struct Opened {
    pub stream: stream::Stream,
    pub meta: StreamMeta,
    pub last: u64,
    /// True when this call created it.
    pub created: bool,
}

/// Opens the stream at `url`, creating it for `wanted` (epoch = `now_us`) when there is none
/// or when `fresh` asks to delete the old one first.
pub async fn open(
    js: &jetstream::Context,
    url: &str,
    wanted: &Wanted,
    fresh: bool,
    now_us: u64,
) -> Result<Opened, Error> {
    if fresh {
        // Absent is fine; any other failure shows up as the create's error below.
        let _ = js.delete_stream(STREAM).await;
    }
    if let Ok(mut s) = js.get_stream(STREAM).await {
        let info = s
            .info()
            .await
            .map_err(|e| Error::Feed(format!("stream {STREAM} at {url}: {e}")))?;
        let meta = info
            .config
            .description
            .as_deref()
            .and_then(StreamMeta::parse)
            .ok_or_else(|| {
                Error::Feed(format!(
                    "stream {STREAM} at {url} was not created by `tickbench feed`; pass --fresh to replace it"
                ))
            })?;
        check(&meta, wanted)?;
        let last = info.state.last_sequence;
        return Ok(Opened {
            stream: s,
            meta,
            last,
            created: false,
        });
    }
    let meta = StreamMeta {
        seed: wanted.seed.unwrap_or(DEFAULT_SEED),
        symbols: wanted.symbols.unwrap_or(DEFAULT_SYMBOLS),
        rate: wanted.rate.unwrap_or(DEFAULT_RATE),
        epoch_us: now_us,
        retain: wanted.retain.unwrap_or(DEFAULT_RETAIN),
    };
    let stream = js
        .create_stream(stream::Config {
            name: STREAM.to_string(),
            subjects: vec![format!("{SUBJECT_PREFIX}.>")],
            max_messages: meta.retain as i64,
            discard: stream::DiscardPolicy::Old,
            duplicate_window: DUPLICATE_WINDOW,
            description: Some(meta.description()),
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| Error::Feed(format!("cannot create stream {STREAM} at {url}: {e}")))?;
    Ok(Opened {
        stream,
        meta,
        last: 0,
        created: true,
    })
}

/// Refuses flags that name another market than the stream's.
fn check(meta: &StreamMeta, wanted: &Wanted) -> Result<(), Error> {
    let differs = |name: &str, have: String, want: Option<String>| {
        match want {
        Some(w) if w != have => Err(Error::Feed(format!(
            "stream {STREAM} carries --{name} {have}, not {w}; drop the flag to continue it or pass --fresh to start a new market"
        ))),
        _ => Ok(()),
    }
    };
    differs(
        "seed",
        meta.seed.to_string(),
        wanted.seed.map(|x| x.to_string()),
    )?;
    differs(
        "symbols",
        meta.symbols.to_string(),
        wanted.symbols.map(|x| x.to_string()),
    )?;
    differs(
        "rate",
        meta.rate.to_string(),
        wanted.rate.map(|x| x.to_string()),
    )?;
    differs(
        "retain",
        meta.retain.to_string(),
        wanted.retain.map(|x| x.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contradicting_flags_are_refused_and_absent_ones_adopt_the_stream() {
        let meta = StreamMeta {
            seed: 3,
            symbols: 20,
            rate: 50.0,
            epoch_us: 1,
            retain: 100,
        };
        assert!(check(&meta, &Wanted::default()).is_ok());
        let same = Wanted {
            seed: Some(3),
            rate: Some(50.0),
            ..Wanted::default()
        };
        assert!(check(&meta, &same).is_ok());
        let other = Wanted {
            seed: Some(4),
            ..Wanted::default()
        };
        let e = check(&meta, &other).unwrap_err().to_string();
        assert!(
            e.contains("--seed 3, not 4") && e.contains("--fresh"),
            "{e}"
        );
    }
}
