//! `cluster partition HOST` / `cluster heal HOST`: a host's link to the bridge set down or up
//! again (a cluster started with `--netns`). Its processes keep running and keep their sockets;
//! nothing they send or expect arrives until the link is back.

use std::path::Path;

use super::state::State;
use crate::error::Error;
use crate::netns::Net;

/// Sets the link of `host` (`edge1`, or `1` for edge 1; any host of the cluster: `nats`,
/// `feed`, `agent2`, ...) of the cluster in `dir` down (`up == false`) or up.
pub fn set_link(dir: &Path, host: &str, up: bool) -> Result<(), Error> {
    let state = State::load(dir)?
        .ok_or_else(|| Error::Launch(format!("no cluster in {}", dir.display())))?;
    let Some(net) = &state.net else {
        return Err(Error::Launch(format!(
            "cluster {} runs without --netns: there is no link to cut (start it with `cluster up --netns`)",
            state.id
        )));
    };
    let name = if host.bytes().all(|b| b.is_ascii_digit()) {
        format!("edge{host}")
    } else {
        host.to_string()
    };
    if net.host(&name).is_none() {
        let names: Vec<&str> = net.hosts.iter().map(|h| h.name.as_str()).collect();
        return Err(Error::Launch(format!(
            "no host {name:?} in cluster {} (hosts: {})",
            state.id,
            names.join(", ")
        )));
    }
    Net::new(&state.id).link(&name, up)
}

/// Cuts `host`'s link.
pub fn partition(dir: &Path, host: &str) -> Result<(), Error> {
    set_link(dir, host, false)
}

/// Restores `host`'s link.
pub fn heal(dir: &Path, host: &str) -> Result<(), Error> {
    set_link(dir, host, true)
}
