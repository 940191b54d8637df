//! The clients of a run: each one's watchlist, read rate (slow consumers), source address,
//! seed and connection (its own, or shared by tabs over HTTP/2), drawn once so every transport
//! phase serves the same clients.

use std::sync::{Arc, Mutex};

use rand::SeedableRng;
use tickbench_wire::{transport::Kind, Symbols, Transport};

use crate::child::ChildServer;
use crate::clients::tls::Trust;
use crate::clients::{ClientConfig, Connection, HttpSpec, ReadRate};
use crate::error::Error;
use crate::opts::{RunOpts, Watch};
use crate::run::restarter::lock;

/// Who the clients are, by client index.
pub(super) struct Population {
    /// Each client's watchlist (`None` = every symbol).
    watchlists: Vec<Option<Arc<[String]>>>,
    /// Each client's read rate (bytes/s) if it is a slow consumer (`--slow-clients`); only
    /// streams read slowly.
    slow_rate: Vec<Option<u64>>,
    /// How every client speaks to the server (HTTP version, TLS trust).
    spec: HttpSpec,
    /// Clients per connection (`--tabs-per-conn`): clients `k·tabs .. (k+1)·tabs` of a phase
    /// share one `reqwest::Client`, so one HTTP/2 connection.
    tabs: u64,
    /// The shared client of the group handed out last, by (phase, group): the driver asks for
    /// a phase's clients in index order, so a group's clients come one after another.
    shared: Mutex<Option<(usize, u64, reqwest::Client)>>,
    /// `--failover`: the other edges every client may move to (checked by `RunOpts::validate`).
    failover: Option<Arc<[reqwest::Url]>>,
}

impl Population {
    /// Draws the population of `opts` over the market `symbols`, connecting as `spec` says.
    pub(super) fn draw(symbols: &Symbols, opts: &RunOpts, spec: HttpSpec) -> Population {
        let watchlists = draw_watchlists(symbols, opts.watch, opts.clients, opts.seed);
        let slow_rate = slow_rates(symbols, &watchlists, opts.slow_clients, opts.slow_factor);
        Population {
            watchlists,
            slow_rate,
            spec,
            tabs: u64::from(opts.tabs_per_conn.max(1)),
            shared: Mutex::new(None),
            failover: (!opts.failover.is_empty()).then(|| {
                opts.failover
                    .iter()
                    .filter_map(|u| u.parse().ok())
                    .collect()
            }),
        }
    }

    /// Client `i`'s connection in `phase`: its own, or its group's shared one (a new one per
    /// phase, so each phase starts from zero connections).
    fn connection(
        &self,
        transport: Transport,
        phase: usize,
        i: u64,
        local_addr: Option<std::net::IpAddr>,
    ) -> Connection {
        // A WebSocket is an HTTP/1.1 upgrade of its own connection: never shared.
        if self.tabs <= 1 || transport.kind() == Kind::Duplex {
            return Connection::Own(self.spec.clone());
        }
        let group = i / self.tabs;
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        match &*shared {
            Some((p, g, c)) if *p == phase && *g == group => Connection::Shared(c.clone()),
            _ => {
                let c = Connection::Own(self.spec.clone()).client(local_addr);
                *shared = Some((phase, group, c.clone()));
                Connection::Shared(c)
            }
        }
    }

    /// How many of a `transport` phase's clients read slowly: the slow consumers, on a stream.
    pub(super) fn slow_clients(&self, transport: Transport) -> u64 {
        if reads_a_stream(transport) {
            self.slow_rate.iter().filter(|p| p.is_some()).count() as u64
        } else {
            0
        }
    }

    /// Client `i` of phase `phase` (`transport`), connecting to `base` (the server or the chaos
    /// proxy).
    pub(super) fn client_config(
        &self,
        opts: &RunOpts,
        base: &reqwest::Url,
        transport: Transport,
        phase: usize,
        i: u64,
    ) -> ClientConfig {
        let mut cfg = ClientConfig::new(base.clone(), transport);
        cfg.symbols = self.watchlists[i as usize].clone();
        cfg.poll_interval = opts.poll_interval;
        cfg.action_rate = opts.action_rate;
        cfg.longpoll_timeout = opts.longpoll_timeout;
        cfg.since = None;
        cfg.seed = mix(opts.seed, (phase as u64) << 40 | i);
        cfg.local_addr = match opts.source_addrs {
            Some(r) => Some(r.of(i)),
            None => source_address(i, opts.clients),
        };
        cfg.failover = self.failover.clone();
        cfg.connection = self.connection(transport, phase, i, cfg.local_addr);
        if reads_a_stream(transport) {
            cfg.read_rate = self.slow_rate[i as usize].map(ReadRate::new);
        }
        cfg
    }
}

/// Which certificates the clients trust for an `https://` `base`: the embedded server's printed
/// fingerprint, `--insecure`, `--ca FILE`, or the bundled web roots. `None` for `http://`.
pub(super) fn trust(
    opts: &RunOpts,
    base: &reqwest::Url,
    child: Option<&Mutex<ChildServer>>,
) -> Result<Option<Trust>, Error> {
    if base.scheme() != "https" {
        return Ok(None);
    }
    if let Some(fp) = child.and_then(|c| lock(c).fingerprint().map(str::to_string)) {
        return Ok(Some(Trust::Pinned(fp)));
    }
    if opts.insecure {
        return Ok(Some(Trust::Insecure));
    }
    if let Some(ca) = &opts.ca {
        return Trust::ca_file(ca)
            .map(Some)
            .map_err(|e| Error::Options(format!("--ca {e}")));
    }
    Ok(Some(Trust::WebRoots))
}

/// Whether a client of `transport` reads one long response, the only kind a slow consumer's read
/// rate applies to (request transports wait for whole answers).
fn reads_a_stream(transport: Transport) -> bool {
    match transport.kind() {
        Kind::Stream | Kind::Duplex => true,
        Kind::Polled | Kind::Piggyback | Kind::Held => false,
    }
}

/// Each client's watchlist: `n` distinct symbols drawn by popularity weight with a seeded RNG, so
/// a rerun with the same seed watches the same symbols. `None` = all symbols.
fn draw_watchlists(
    symbols: &Symbols,
    watch: Watch,
    clients: u64,
    seed: u64,
) -> Vec<Option<Arc<[String]>>> {
    let n = match watch {
        Watch::Count(n) if n < symbols.symbols.len() => n,
        _ => return vec![None; clients as usize],
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(mix(seed, 0x5741_5443_4821));
    let weights: Vec<f64> = symbols
        .symbols
        .iter()
        .map(|s| s.weight.max(1e-12))
        .collect();
    (0..clients)
        .map(|_| {
            let picked =
                rand::seq::index::sample_weighted(&mut rng, weights.len(), |i| weights[i], n)
                    .map(|idx| {
                        idx.into_iter()
                            .map(|i| symbols.symbols[i].sym.clone())
                            .collect::<Vec<_>>()
                    })
                    // Weights are positive and finite, so this cannot fail; fall back to the top n.
                    .unwrap_or_else(|_| {
                        symbols.symbols[..n].iter().map(|s| s.sym.clone()).collect()
                    });
            Some(Arc::from(picked))
        })
        .collect()
}

/// About how many bytes one tick takes on a stream (the tick's JSON plus its framing), for the
/// slow consumers' read rate. Framing differs a little per transport (SSE `id:`/`data:` lines,
/// multipart part headers, iframe script tags); the factor matters, not the exact bytes.
const STREAM_BYTES_PER_TICK: f64 = 160.0;

/// Each client's read rate (bytes/s) if it is one of the `share` slow consumers: `factor` times
/// slower than its ticks arrive (its tick rate is the server's rate times the popularity weights
/// of its watchlist). Slow clients are spread evenly over the client list (every 10th for 10 %),
/// so each worker and each ramp step gets its share.
fn slow_rates(
    symbols: &Symbols,
    watchlists: &[Option<Arc<[String]>>],
    share: f64,
    factor: f64,
) -> Vec<Option<u64>> {
    let weights: std::collections::HashMap<&str, f64> = symbols
        .symbols
        .iter()
        .map(|s| (s.sym.as_str(), s.weight))
        .collect();
    watchlists
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let (a, b) = (i as f64 * share, (i + 1) as f64 * share);
            if share <= 0.0 || b.floor() <= a.floor() {
                return None;
            }
            let weight: f64 = match w {
                Some(list) => list.iter().filter_map(|s| weights.get(s.as_str())).sum(),
                None => 1.0,
            };
            let bytes_per_s = symbols.rate * weight * STREAM_BYTES_PER_TICK / factor;
            Some(bytes_per_s.max(1.0) as u64)
        })
        .collect()
}

/// Above this many clients, connections are spread over source addresses 127.0.0.1, .2, …: one
/// (source, destination) pair has only ~28,000 ephemeral ports.
const CLIENTS_PER_SOURCE: u64 = 20_000;

/// Source address of client `i`: `None` (the kernel's choice) for runs that fit one address.
fn source_address(i: u64, clients: u64) -> Option<std::net::IpAddr> {
    if clients <= CLIENTS_PER_SOURCE {
        return None;
    }
    let k = (i / CLIENTS_PER_SOURCE).min(253) as u8;
    Some(std::net::Ipv4Addr::new(127, 0, 0, 1 + k).into())
}

/// SplitMix64 finalizer: turns (seed, index) into well-spread per-client seeds.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickbench_wire::SymbolInfo;

    fn market() -> Symbols {
        let raw: Vec<f64> = (1..=50).map(|k| 1.0 / k as f64).collect();
        let total: f64 = raw.iter().sum();
        Symbols {
            rate: 100.0,
            seed: 1,
            retain: 1000,
            epoch_us: 0,
            symbols: raw
                .iter()
                .enumerate()
                .map(|(i, w)| SymbolInfo {
                    sym: format!("S{i}"),
                    weight: w / total,
                    price: 10.0,
                })
                .collect(),
        }
    }

    #[test]
    fn watchlists_are_seeded_distinct_and_popularity_weighted() {
        let m = market();
        let a = draw_watchlists(&m, Watch::Count(5), 2000, 7);
        assert_eq!(a, draw_watchlists(&m, Watch::Count(5), 2000, 7));
        assert_ne!(a, draw_watchlists(&m, Watch::Count(5), 2000, 8));
        let mut hits = vec![0u32; 50];
        for w in &a {
            let w = w.as_ref().unwrap();
            assert_eq!(w.len(), 5);
            let mut u: Vec<&String> = w.iter().collect();
            u.sort();
            u.dedup();
            assert_eq!(u.len(), 5, "distinct symbols");
            for s in w.iter() {
                hits[s[1..].parse::<usize>().unwrap()] += 1;
            }
        }
        assert!(
            hits[0] > hits[49] * 3,
            "popular symbols drawn more: {hits:?}"
        );
        assert!(draw_watchlists(&m, Watch::All, 3, 1)
            .iter()
            .all(Option::is_none));
        assert!(draw_watchlists(&m, Watch::Count(50), 3, 1)
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn slow_clients_are_an_even_share_reading_factor_times_slower() {
        let m = market();
        let lists = draw_watchlists(&m, Watch::All, 100, 1);
        let rates = slow_rates(&m, &lists, 0.1, 10.0);
        assert_eq!(rates.iter().filter(|r| r.is_some()).count(), 10);
        assert!(rates[..10].iter().filter(|r| r.is_some()).count() == 1);
        // All symbols at 100 ticks/s, 160 B each, 10× slower.
        assert_eq!(rates.iter().flatten().next(), Some(&1600));
        assert!(slow_rates(&m, &lists, 0.0, 10.0)
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn large_runs_spread_over_loopback_sources() {
        assert_eq!(source_address(5, 2000), None);
        assert_eq!(
            source_address(0, 50_000),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            source_address(45_000, 50_000),
            Some("127.0.0.3".parse().unwrap())
        );
    }
}
