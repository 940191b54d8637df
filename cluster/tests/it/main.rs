//! Black-box tests of the cluster over real sockets on loopback (one test binary, so it links
//! once): a real nats-server (installed by the support when missing; `TICKBENCH_SKIP_NATS=1`
//! skips, saying so), the feed, and edges running in this process; `launch` and `netns` start the
//! whole cluster as processes with the built `tickbench` binary (`cluster up`, `--netns`).

mod agents;
mod edge_kill;
mod feed_edges;
mod launch;
mod netns;
mod restarts;
mod retention;
mod support;
