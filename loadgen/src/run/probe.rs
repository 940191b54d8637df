//! The coordinator's own requests to the server: `/symbols` once (is this a tickbench server, and
//! what does it publish), `/healthz` every second (journal head and uptime) and, for an external
//! `--target` whose pid is unknown, `/metrics` every second (its CPU time and resident memory).

use std::time::Duration;

use tickbench_wire::Symbols;

use crate::error::Error;
use crate::procstat::ProcSample;

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

/// The server's CPU time and resident memory from the standard `process_cpu_seconds_total` and
/// `process_resident_memory_bytes` of its `/metrics`: how a run measures a server it did not start
/// (no pid to read `/proc` with). `None` if it did not answer in time or exports neither.
pub(super) async fn process_metrics(
    http: &reqwest::Client,
    base: &reqwest::Url,
) -> Option<ProcSample> {
    let url = base.join("metrics").ok()?;
    let r = http
        .get(url)
        .timeout(Duration::from_millis(800))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    parse_process_metrics(&r.text().await.ok()?)
}

/// The two `process_*` samples of a Prometheus text exposition (comments and other families
/// skipped); `None` unless the CPU counter is there (the memory gauge alone says nothing of load).
fn parse_process_metrics(text: &str) -> Option<ProcSample> {
    let mut cpu = None;
    let mut rss = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        match name {
            "process_cpu_seconds_total" if v.is_finite() && v >= 0.0 => {
                cpu = Some(Duration::from_secs_f64(v));
            }
            "process_resident_memory_bytes" if v.is_finite() && v >= 0.0 => rss = Some(v as u64),
            _ => {}
        }
    }
    Some(ProcSample {
        cpu: cpu?,
        rss_bytes: rss.unwrap_or(0),
        alive: true,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_two_process_families_and_skips_the_rest() {
        let text =
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
                    # TYPE process_cpu_seconds_total counter\n\
                    process_cpu_seconds_total 1.250000\n\
                    tickbench_clients{transport=\"sse\"} 3\n\
                    process_resident_memory_bytes 12582912\n\
                    process_virtual_memory_bytes 99\n";
        let s = parse_process_metrics(text).unwrap();
        assert_eq!(s.cpu, Duration::from_millis(1250));
        assert_eq!(s.rss_bytes, 12_582_912);
        assert!(s.alive);
    }

    #[test]
    fn no_cpu_counter_is_no_sample() {
        assert_eq!(
            parse_process_metrics("process_resident_memory_bytes 4096\n"),
            None
        );
        assert_eq!(
            parse_process_metrics("process_cpu_seconds_total NaN\n"),
            None
        );
        assert_eq!(parse_process_metrics(""), None);
    }
}
