//! The measurements beside the transport phases that borrow the phase driver: the fan-out
//! floor's phase (the same clients against a minimal writer) and the bare HTTP loop after polling.

use std::time::Instant;

use tickbench_wire::{Transport, TransportSummary};

use crate::error::Error;
use crate::floor::bare_http::{self, BareConnection, BareHttpConfig};
use crate::floor::{ChildFloor, FanoutConfig, FanoutFloor, Floor};
use crate::results::ResultsDir;
use crate::run::driver::{floor_task, Coordinator};
use crate::run::limits::check_fanout_file_limit;
use crate::worker::Worker;

impl Coordinator {
    /// The bare HTTP loop beside a polling phase (see `crate::floor::bare_http`): the phase's
    /// connections, URLs (without the cursor), workers and schedule, for a warm-up and a measured
    /// window as long as the phase's. `None` when skipped or interrupted.
    pub(super) async fn bare_http(
        &self,
        transport: Transport,
        index: usize,
    ) -> Result<Option<tickbench_wire::BareHttp>, Error> {
        let o = &self.opts;
        if o.no_bare_http || self.cancel.is_cancelled() {
            return Ok(None);
        }
        let connections = (0..o.clients)
            .map(|i| {
                let c = self
                    .population
                    .client_config(o, &self.client_base, transport, index, i);
                let mut url = format!(
                    "{}{}",
                    c.base.as_str().trim_end_matches('/'),
                    transport.path()
                );
                if let Some(s) = c.symbols.as_deref().filter(|s| !s.is_empty()) {
                    crate::clients::http::push_symbols(&mut url, s);
                }
                BareConnection {
                    url,
                    local_addr: c.local_addr,
                    connection: c.connection,
                }
            })
            .collect();
        let cfg = BareHttpConfig {
            connections,
            interval: o.poll_interval,
            workers: o.workers,
            warmup: o.ramp + o.warmup,
            duration: o.duration,
        };
        let cancel = self.cancel.clone();
        tokio::task::spawn_blocking(move || bare_http::measure(cfg, cancel))
            .await
            .map_err(floor_task)?
            .map_err(Error::os("running the bare HTTP loop"))
    }

    /// The fan-out floor's phase (see `crate::floor::fanout`), with the first push transport of
    /// the run; `None` when skipped, interrupted, or the run has no push transport.
    pub(super) async fn fanout_floor(
        &mut self,
        transports: &[Transport],
        workers: &[Worker],
        results: &mut ResultsDir,
        run_start: Instant,
    ) -> Result<Option<TransportSummary>, Error> {
        let push = transports.iter().copied().find(|t| match t.kind() {
            tickbench_wire::transport::Kind::Stream => true,
            // The floor's minimal writer speaks HTTP chunked streams, not WebSocket frames.
            tickbench_wire::transport::Kind::Polled
            | tickbench_wire::transport::Kind::Piggyback
            | tickbench_wire::transport::Kind::Held
            | tickbench_wire::transport::Kind::Duplex => false,
        });
        let Some(transport) = push.filter(|_| !self.opts.no_fanout_floor) else {
            return Ok(None);
        };
        if self.cancel.is_cancelled() {
            return Ok(None);
        }
        let cfg = FanoutConfig {
            transport,
            symbols: self.symbols.symbols.len(),
            seed: self.symbols.seed,
            rate: self.symbols.rate,
            writers: 0,
        };
        let fits = if self.opts.floor_process {
            Err("--floor-process".to_string())
        } else {
            check_fanout_file_limit(self.opts.clients)
        };
        let floor = match fits {
            Ok(()) => Floor::Here(
                tokio::task::spawn_blocking(move || FanoutFloor::start(cfg))
                    .await
                    .map_err(floor_task)?
                    .map_err(Error::os("starting the fan-out floor"))?,
            ),
            // Its sockets do not fit beside the clients' in this process: in its own.
            Err(why) => {
                let exe = match &self.opts.server_bin {
                    Some(p) => Ok(p.clone()),
                    None => std::env::current_exe(),
                };
                let started = tokio::task::spawn_blocking(move || {
                    exe.and_then(|exe| ChildFloor::start(&exe, &cfg))
                })
                .await
                .map_err(floor_task)?;
                match started {
                    Ok(c) => {
                        tracing::info!("fan-out floor in its own process: {why}");
                        Floor::Child(c)
                    }
                    Err(e) => {
                        // The transports' figures stand without it.
                        tracing::warn!("fan-out floor skipped: {why}; in its own process: {e}");
                        return Ok(None);
                    }
                }
            }
        };
        self.fanout = Some(floor);
        let index = transports.len();
        let phase = self
            .phase(transport, index, workers, results, run_start)
            .await;
        if let Some(f) = self.fanout.take() {
            // Joins its threads: off the runtime.
            let _ = tokio::task::spawn_blocking(move || drop(f)).await;
        }
        phase
    }
}
