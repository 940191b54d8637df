//! The loopback floors: how fast two sockets on this machine can exchange 64 bytes (within one
//! thread, and between two threads), measured before the phases so every latency in the results
//! can be read against what the kernel alone costs.

use tickbench_wire::Floor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::error::Error;
use crate::stats::new_histogram;

/// Size of each ping and pong.
const MESSAGE: usize = 64;

/// Runs `round_trips` 64-byte TCP_NODELAY ping-pongs over 127.0.0.1 between two tasks and returns
/// half the round trip (the one-way floor) at p50 and p99, µs.
///
/// Both tasks share one single-threaded runtime, the way a worker's clients do: the floor then
/// holds the kernel's loopback path and one readiness wake-up, the least any client can pay,
/// without a cross-thread hand-off that a busy machine would inflate.
pub fn measure_floor(round_trips: usize) -> Result<Floor, Error> {
    at_least_one(round_trips)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(Error::os("floor: building a runtime"))?;
    rt.block_on(ping_pong(round_trips))
        .map_err(Error::os("floor: same-thread ping-pong"))
}

/// A floor of no round trips has no figures.
fn at_least_one(round_trips: usize) -> Result<(), Error> {
    if round_trips == 0 {
        return Err(Error::Options(
            "the floor needs at least one round trip".into(),
        ));
    }
    Ok(())
}

async fn ping_pong(round_trips: usize) -> std::io::Result<Floor> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let echo = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        let mut buf = [0u8; MESSAGE];
        for _ in 0..round_trips {
            s.read_exact(&mut buf).await?;
            s.write_all(&buf).await?;
        }
        Ok::<_, std::io::Error>(())
    });

    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let ping = [0x5au8; MESSAGE];
    let mut pong = [0u8; MESSAGE];
    // Recorded in ns so sub-microsecond halves are not all rounded to one value.
    let mut halves_ns = new_histogram();
    for _ in 0..round_trips {
        let start = std::time::Instant::now();
        s.write_all(&ping).await?;
        s.read_exact(&mut pong).await?;
        halves_ns.saturating_record((start.elapsed().as_nanos() / 2) as u64);
    }
    echo.await.map_err(std::io::Error::other)??;
    Ok(floor_of(&halves_ns))
}

/// Runs `round_trips` 64-byte TCP_NODELAY ping-pongs over 127.0.0.1 between two OS threads with
/// blocking sockets and returns the one-way half at p50 and p99, µs.
///
/// Unlike [`measure_floor`], each message here wakes a sleeping thread, possibly on the other
/// core (≈ 100 µs on some VMs against a few µs within one thread): the hand-off every tick pays
/// at least once on its way from the generator thread to a client process. Reported beside the
/// same-thread floor so a push latency is not read against a path no tick can take.
pub fn measure_cross_thread_floor(round_trips: usize) -> Result<Floor, Error> {
    at_least_one(round_trips)?;
    cross_thread_ping_pong(round_trips).map_err(Error::os("floor: cross-thread ping-pong"))
}

fn cross_thread_ping_pong(round_trips: usize) -> std::io::Result<Floor> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let echo = std::thread::Builder::new()
        .name("tickbench-floor-echo".into())
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
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    let ping = [0x5au8; MESSAGE];
    let mut pong = [0u8; MESSAGE];
    let mut halves_ns = new_histogram();
    for _ in 0..round_trips {
        let start = std::time::Instant::now();
        s.write_all(&ping)?;
        s.read_exact(&mut pong)?;
        halves_ns.saturating_record((start.elapsed().as_nanos() / 2) as u64);
    }
    echo.join()
        .map_err(|_| std::io::Error::other("the echo thread panicked"))??;
    Ok(floor_of(&halves_ns))
}

/// p50 and p99, µs, of one-way halves recorded in ns.
fn floor_of(halves_ns: &hdrhistogram::Histogram<u64>) -> Floor {
    Floor {
        p50: halves_ns.value_at_quantile(0.5) as f64 / 1000.0,
        p99: halves_ns.value_at_quantile(0.99) as f64 / 1000.0,
    }
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

    #[test]
    fn zero_round_trips_is_an_error() {
        assert!(measure_floor(0).is_err());
        assert!(measure_cross_thread_floor(0).is_err());
    }

    #[test]
    fn cross_thread_floor_is_positive_and_ordered() {
        let f = measure_cross_thread_floor(2_000).unwrap();
        assert!(f.p50 > 0.0 && f.p99 >= f.p50, "{f:?}");
        assert!(f.p50 < 50_000.0, "{f:?}");
    }
}
