//! The coordinator's own requests to the server: `/symbols` once (is this a tickbench server, and
//! what does it publish) and `/healthz` every second (journal head and uptime).

use std::time::Duration;

use tickbench_wire::Symbols;

use crate::error::Error;

/// Timeout of the coordinator's own requests (`/symbols`, `/healthz`).
pub(super) const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// What the coordinator reads from `/healthz` every second.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub(super) struct Health {
    pub(super) next: u64,
    /// Falls when the server was restarted between two samples: a restart the run saw (whoever
    /// did it), recorded as such rather than left to look like loss.
    #[serde(default)]
    pub(super) uptime_s: f64,
}

/// The server's journal head and uptime (`next`, `uptime_s` of `/healthz`), `None` if it did not
/// answer (in time: a slow answer must not stretch the coordinator's second).
pub(super) async fn healthz(http: &reqwest::Client, base: &reqwest::Url) -> Option<Health> {
    let url = base.join("healthz").ok()?;
    let r = http
        .get(url)
        .timeout(Duration::from_millis(800))
        .send()
        .await
        .ok()?;
    r.json::<Health>().await.ok()
}

/// GET /symbols: proves the target is a tickbench server and lists its market.
pub(super) async fn fetch_symbols(
    http: &reqwest::Client,
    base: &reqwest::Url,
    target: &str,
) -> Result<Symbols, Error> {
    let url = base.join("symbols").map_err(|e| Error::BadTarget {
        target: target.to_string(),
        reason: format!("has no /symbols URL: {e}"),
    })?;
    let resp = http.get(url).send().await.map_err(|e| {
        // reqwest's own message is generic; the root cause ("Connection refused") is the news.
        let mut cause: &dyn std::error::Error = &e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        Error::TargetUnreachable {
            target: target.to_string(),
            cause: cause.to_string(),
        }
    })?;
    let status = resp.status();
    let not_tickbench = || Error::NotTickbench {
        target: target.to_string(),
        status: status.to_string(),
    };
    if !status.is_success() {
        return Err(not_tickbench());
    }
    let symbols: Symbols = resp.json().await.map_err(|_| not_tickbench())?;
    if symbols.symbols.is_empty() {
        return Err(not_tickbench());
    }
    Ok(symbols)
}
