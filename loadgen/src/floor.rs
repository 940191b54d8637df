//! The loopback floor: how fast two sockets on this machine can exchange 64 bytes, measured before
//! the phases so every latency in the results can be read against what the kernel alone costs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use anyhow::Context;
use tickbench_wire::Floor;

use crate::stats::new_histogram;

/// Size of each ping and pong.
const MESSAGE: usize = 64;

/// Runs `round_trips` 64-byte TCP_NODELAY ping-pongs over 127.0.0.1 between two threads and returns
/// half the round trip (the one-way floor) at p50 and p99, µs.
///
/// Plain blocking sockets on two threads: the floor should contain the kernel's loopback cost and
/// a wake-up, not an async runtime's scheduling.
pub fn measure_floor(round_trips: usize) -> anyhow::Result<Floor> {
    anyhow::ensure!(round_trips > 0, "the floor needs at least one round trip");
    let listener = TcpListener::bind("127.0.0.1:0").context("floor: binding 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let echo = std::thread::Builder::new()
        .name("floor-echo".into())
        .spawn(move || -> std::io::Result<()> {
            let (mut s, _) = listener.accept()?;
            s.set_nodelay(true)?;
            let mut buf = [0u8; MESSAGE];
            for _ in 0..round_trips {
                s.read_exact(&mut buf)?;
                s.write_all(&buf)?;
            }
            Ok(())
        })?;

    let mut s = TcpStream::connect(addr).context("floor: connecting to the echo socket")?;
    s.set_nodelay(true)?;
    let ping = [0x5au8; MESSAGE];
    let mut pong = [0u8; MESSAGE];
    // Measured in ns and halved so sub-microsecond floors are not all rounded to one value.
    let mut halves_ns = new_histogram();
    for _ in 0..round_trips {
        let start = Instant::now();
        s.write_all(&ping)?;
        s.read_exact(&mut pong)?;
        let rtt = start.elapsed();
        halves_ns.saturating_record((rtt.as_nanos() / 2) as u64);
    }
    echo.join()
        .map_err(|_| anyhow::anyhow!("floor: echo thread panicked"))?
        .context("floor: echo")?;
    Ok(Floor {
        p50: halves_ns.value_at_quantile(0.5) as f64 / 1000.0,
        p99: halves_ns.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_is_positive_and_ordered() {
        let f = measure_floor(2_000).unwrap();
        assert!(f.p50 > 0.0, "{f:?}");
        assert!(f.p99 >= f.p50, "{f:?}");
        // Generous: a loopback one-way trip is micro- not milliseconds, even on a busy box.
        assert!(f.p50 < 50_000.0, "{f:?}");
    }
}
