//! The resolved configuration a run records in `summary.json` (`config`): the options, the
//! target, and what is known of the server measured.

use crate::run::driver::{Coordinator, FLOOR_ROUND_TRIPS};
use crate::run::restarter::lock;

impl Coordinator {
    /// The resolved configuration recorded in `summary.json`.
    pub(super) fn config_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.opts).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.insert("target".into(), self.target.clone().into());
            m.insert("embedded_server".into(), self.server_pid.is_some().into());
            m.insert("server_pid".into(), self.server_pid.into());
            m.insert(
                "server_version".into(),
                match self.server_pid {
                    Some(_) => env!("CARGO_PKG_VERSION").into(),
                    None => "unknown (external --target)".into(),
                },
            );
            if self.server_pid.is_none() {
                m.insert(
                    "server_stats".into(),
                    if self.scrape_target {
                        "external --target: server CPU and RSS read each second from its \
                         /metrics (process_cpu_seconds_total, process_resident_memory_bytes)"
                    } else {
                        "not measured: external --target without process_* metrics, server CPU \
                         and RSS are reported as 0"
                    }
                    .into(),
                );
            }
            m.insert("server_rate".into(), self.symbols.rate.into());
            m.insert("server_seed".into(), self.symbols.seed.into());
            m.insert("server_retain".into(), self.symbols.retain.into());
            m.insert("server_symbols".into(), self.symbols.symbols.len().into());
            m.insert("floor_round_trips".into(), FLOOR_ROUND_TRIPS.into());
            if let Some(c) = &self.child {
                m.insert("server_epoch_us".into(), lock(c).args().epoch_us.into());
            }
            if let Some(p) = &self.peer {
                m.insert("peer".into(), p.config());
                m.insert("server_pid".into(), p.pid.into());
                m.insert("server_version".into(), p.kind.name().into());
                m.insert("embedded_server".into(), false.into());
                m.insert("server_stats".into(), p.config()["server_stats"].clone());
            }
            if self.proxy.is_some() {
                m.insert(
                    "chaos_proxy".into(),
                    "in-process TCP proxy: its CPU and sockets are the load generator's".into(),
                );
            }
        }
        v
    }
}
