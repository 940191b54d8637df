//! `cluster down`: stops every process in reverse start order (agents, edges, the feed,
//! nats-server: SIGTERM, SIGKILL after a grace period), removes the cluster's namespaces (their
//! veths and bridge go with them) and marks the state down. Idempotent: a second `down`, or one
//! in a DIR without a cluster, stops nothing and succeeds.

use std::path::Path;
use std::time::Duration;

use super::spawn::stop;
use super::state::{Phase, Proc, Role, State};
use crate::error::Error;
use crate::netns::Net;

/// How long a process has to stop after SIGTERM.
const GRACE: Duration = Duration::from_secs(5);

/// Stops the cluster in `dir`; its state afterwards (`None`: there was no cluster).
pub fn down(dir: &Path) -> Result<Option<State>, Error> {
    let Some(mut state) = State::load(dir)? else {
        return Ok(None);
    };
    let stopped = stop_all(&state);
    state.phase = Phase::Down;
    state.save()?;
    stopped.map(|()| Some(state))
}

/// Stops every process of `state` and removes its namespaces; an error names what survived.
pub(crate) fn stop_all(state: &State) -> Result<(), Error> {
    for role in [Role::Agent, Role::Edge, Role::Feed, Role::Nats] {
        let procs: Vec<&Proc> = state.procs.iter().filter(|p| p.role == role).collect();
        stop(&procs, GRACE);
    }
    let alive: Vec<String> = state
        .procs
        .iter()
        .filter(|p| p.alive())
        .map(|p| format!("{} (pid {})", p.name, p.pid))
        .collect();
    let net = Net::new(&state.id);
    let removed = if net.existing().is_empty() {
        Ok(())
    } else {
        net.remove()
    };
    if !alive.is_empty() {
        return Err(Error::Launch(format!(
            "still running after SIGKILL: {}",
            alive.join(", ")
        )));
    }
    removed
}
