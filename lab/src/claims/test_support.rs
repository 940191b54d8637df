//! A typical clean point to vary in the claim tests.

use tickbench_wire::Transport;

use crate::points::Point;

pub(crate) fn pt(t: Transport) -> Point {
    Point {
        transport: t,
        clients: Some(100),
        rate: Some(1.0),
        poll_interval: None,
        action_rate: None,
        link: tickbench_wire::Link::default(),
        target: None,
        runs: 1,
        p50_us: 200.0,
        p99_us: 800.0,
        floor_p50_us: 20.0,
        requests_per_tick: 1.0,
        empty_pct: 0.0,
        bytes_per_tick: 150.0,
        server_cpu_us_per_tick: 5.0,
        deliveries_per_s: 100.0,
        server_rss_bytes: 0.0,
        requests_per_s_per_client: 1.0,
        delivered: 1000,
        loss: 0,
        errors: 0,
        clients_receiving: 100,
        clients_asked: 100,
        saturated: false,
        incomplete: false,
    }
}
