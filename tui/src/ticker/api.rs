//! The two server endpoints the viewer needs besides its transport: `GET /symbols` (the market,
//! to check a watchlist) and `GET /snapshot` (the starting state and cursor).

use std::time::Duration;

use tickbench_wire::Snapshot;

use crate::error::Error;

/// Server address and the HTTP client for the snapshot and symbol list.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: reqwest::Url,
    http: reqwest::Client,
}

impl Api {
    /// The API of the server at `url` (`http://host:port`, with or without a path).
    pub fn new(url: &str) -> Result<Self, Error> {
        let mut base: reqwest::Url = url.parse().map_err(|e| Error::BadUrl {
            url: url.to_string(),
            reason: format!("{e}"),
        })?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(Error::Http)?;
        Ok(Self { base, http })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        let url = self.base.join(path).map_err(|e| Error::BadUrl {
            url: format!("{}{path}", self.base),
            reason: format!("{e}"),
        })?;
        let resp = self
            .http
            .get(url.clone())
            .query(query)
            .send()
            .await
            .map_err(|source| Error::Unreachable {
                url: url.to_string(),
                source,
            })?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            let msg = serde_json::from_str::<tickbench_wire::ApiError>(&body)
                .map(|e| e.error)
                .unwrap_or(body);
            return Err(Error::Status {
                url: url.to_string(),
                status,
                message: msg,
            });
        }
        resp.json().await.map_err(|source| Error::BadAnswer {
            url: url.to_string(),
            source,
        })
    }

    /// `GET /symbols`: the market, most active first.
    pub async fn symbols(&self) -> Result<tickbench_wire::Symbols, Error> {
        self.get("symbols", &[]).await
    }

    /// `GET /snapshot?symbols=`.
    pub async fn snapshot(&self, symbols: &[String]) -> Result<Snapshot, Error> {
        self.get("snapshot", &[("symbols", symbols.join(","))])
            .await
    }
}
