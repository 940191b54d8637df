//! The floors a run's figures are read against: what this machine costs before any server does
//! anything.
//!
//! # Layout
//! - [`loopback`]: half a 64-byte TCP round trip, within one thread and between two threads.
//! - [`fanout`]: [`FanoutFloor`], a minimal fan-out writer (one epoll thread per core, one
//!   `write` per delivery, no runtime) that a run measures like a transport: the same clients,
//!   tick rate, watchlists, bytes per delivery and client parsing code, so a push transport's
//!   latency and CPU per delivery can be read as a multiple of it.
//! - [`process`]: [`Floor`], the fan-out floor here or, when its sockets would not fit beside
//!   the clients' in this process, in a `tickbench fanout-floor` child ([`ChildFloor`]).
//! - [`bare_http`]: the polling clients' yardstick, the same connections and schedule doing
//!   nothing but send and read a body with the same HTTP client.

pub mod bare_http;
pub mod fanout;
pub mod loopback;
pub mod process;

pub use fanout::{FanoutConfig, FanoutFloor};
pub use loopback::{measure_cross_thread_floor, measure_floor};
pub use process::{ChildFloor, Floor, FloorOpts};
