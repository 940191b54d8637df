//! The two server endpoints the viewer needs besides its transport: `GET /symbols` (the market,
//! to check a watchlist) and `GET /snapshot` (the starting state and cursor).

use std::time::Duration;

use anyhow::Context;
use tickbench_wire::Snapshot;

/// Server address and the HTTP client for the snapshot and symbol list.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: reqwest::Url,
    http: reqwest::Client,
}

impl Api {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let mut base: reqwest::Url = url
            .parse()
            .with_context(|| format!("invalid server URL '{url}'"))?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self { base, http })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let url = self.base.join(path)?;
        let resp = self
            .http
            .get(url.clone())
            .query(query)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            let msg = serde_json::from_str::<tickbench_wire::ApiError>(&body)
                .map(|e| e.error)
                .unwrap_or(body);
            anyhow::bail!("{url} answered {status}: {msg}");
        }
        resp.json()
            .await
            .with_context(|| format!("bad answer from {url}"))
    }

    /// `GET /symbols`: the market, most active first.
    pub async fn symbols(&self) -> anyhow::Result<tickbench_wire::Symbols> {
        self.get("symbols", &[]).await
    }

    /// `GET /snapshot?symbols=`.
    pub async fn snapshot(&self, symbols: &[String]) -> anyhow::Result<Snapshot> {
        self.get("snapshot", &[("symbols", symbols.join(","))])
            .await
    }
}
