//! `cluster status`: what the state file says and what is actually alive, one line per process.

use std::fmt::Write as _;
use std::path::Path;

use super::state::{Phase, State};
use crate::error::Error;
use crate::netns::Net;

/// The cluster in a DIR as `status` sees it.
#[derive(Debug)]
pub struct Status {
    pub state: State,
    /// Per process (in state order), whether it runs.
    pub alive: Vec<bool>,
    /// The cluster's namespaces that exist.
    pub namespaces: Vec<String>,
}

impl Status {
    /// Every process runs (and the state says up).
    pub fn healthy(&self) -> bool {
        self.state.phase == Phase::Up && self.alive.iter().all(|a| *a)
    }

    /// Nothing runs and no namespace is left.
    pub fn gone(&self) -> bool {
        !self.alive.iter().any(|a| *a) && self.namespaces.is_empty()
    }

    /// The table `cluster status` prints.
    pub fn render(&self) -> String {
        let s = &self.state;
        let mut out = String::new();
        let phase = match s.phase {
            Phase::Starting => "starting",
            Phase::Up => "up",
            Phase::Down => "down",
        };
        let running = self.alive.iter().filter(|a| **a).count();
        let _ = writeln!(
            out,
            "cluster {} in {}: {phase}, {running} of {} processes running{}",
            s.id,
            s.dir.display(),
            s.procs.len(),
            match &s.net {
                Some(n) => format!(", netns (bridge {}, {})", n.bridge_ns, n.subnet),
                None => String::new(),
            }
        );
        for (p, alive) in s.procs.iter().zip(&self.alive) {
            let _ = writeln!(
                out,
                "  {:<8} pid {:<7} {:<5} {:<28} {}{}",
                p.name,
                p.pid,
                if *alive { "alive" } else { "dead" },
                p.url.as_deref().unwrap_or("-"),
                p.log.display(),
                p.netns
                    .as_ref()
                    .map(|n| format!("  netns {n}"))
                    .unwrap_or_default()
            );
        }
        if !self.namespaces.is_empty() && s.phase == Phase::Down {
            let _ = writeln!(out, "  namespaces left: {}", self.namespaces.join(" "));
        }
        out
    }
}

/// The cluster in `dir`, `None` if there is none.
pub fn status(dir: &Path) -> Result<Option<Status>, Error> {
    let Some(state) = State::load(dir)? else {
        return Ok(None);
    };
    let alive = state.procs.iter().map(|p| p.alive()).collect();
    let namespaces = Net::new(&state.id).existing();
    Ok(Some(Status {
        state,
        alive,
        namespaces,
    }))
}
