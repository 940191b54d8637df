//! What `cluster up` prints once the cluster answers: where everything is, how to drive a run
//! across its agents and edges, how to look at it and how to stop it.

use std::fmt::Write as _;

use super::state::State;

/// The text printed after `up`.
pub fn guide(s: &State) -> String {
    let dir = s.dir.display();
    let nats = s.nats_url.as_deref().unwrap_or("?");
    let edges = s.edge_urls();
    let agents = s.agents().count();
    // With --netns the edges are reachable only from a host on the bridge: `ctl` is one.
    let prefix = s
        .ctl_ns()
        .map(|ns| format!("ip netns exec {ns} "))
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cluster {} up in {dir}: nats {nats}, a feed, {} edges, {agents} agents{}",
        s.id,
        edges.len(),
        match &s.net {
            Some(n) => format!(
                ", each in its own namespace on {} ({})",
                n.bridge_ns, n.subnet
            ),
            None => String::new(),
        }
    );
    for p in s.edges() {
        let _ = writeln!(out, "  {:<8} {}", p.name, p.url.as_deref().unwrap_or("?"));
    }
    let _ = writeln!(out, "  logs     {dir}/logs/  state {dir}/cluster.json");
    let _ = writeln!(out);
    if agents > 0 {
        let _ = writeln!(out, "Drive a run across the agents and edges:");
        let _ = writeln!(
            out,
            "  {prefix}tickbench run --agents {agents} --nats {nats} --targets {} --clients 1000 --transports sse --duration 30s --no-tui",
            edges.join(",")
        );
    }
    if let Some(e) = edges.first() {
        let _ = writeln!(out, "Watch an edge:   {prefix}tickbench view {e}");
    }
    if s.net.is_some() {
        let _ = writeln!(out, "Cut edge 1 off:  tickbench cluster partition edge1 --dir {dir}   (and `cluster heal edge1 --dir {dir}`)");
    }
    let _ = writeln!(out, "Status:          tickbench cluster status --dir {dir}");
    let _ = writeln!(out, "Stop it:         tickbench cluster down --dir {dir}");
    out
}
