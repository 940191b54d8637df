//! [`cancel_on_signals`]: Ctrl-C and SIGTERM as a cancellation, so an interrupted run still writes
//! what it measured.

use std::sync::atomic::{AtomicI32, Ordering};

use tokio_util::sync::CancellationToken;

use crate::error::Error;

/// The signal that cancelled the run (0: none), so the binary can pick its exit code: 130 after
/// Ctrl-C, as shells expect.
static STOPPED_BY: AtomicI32 = AtomicI32::new(0);

/// The signal number (`SIGINT` = 2, `SIGTERM` = 15) that stopped this process's run, if any.
pub fn stopped_by_signal() -> Option<i32> {
    match STOPPED_BY.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// Cancels `cancel` on Ctrl-C or SIGTERM (from a small background thread), so a plain run stops
/// measuring, writes what it has as incomplete and stops its server.
pub fn cancel_on_signals(cancel: CancellationToken) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::os("building the signal runtime"))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            rt.block_on(async {
                let Ok(mut term) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                else {
                    return;
                };
                let signal = tokio::select! {
                    _ = tokio::signal::ctrl_c() => 2,
                    _ = term.recv() => 15,
                    _ = cancel.cancelled() => return,
                };
                STOPPED_BY.store(signal, Ordering::Relaxed);
                cancel.cancel();
            })
        })
        .map_err(Error::os("spawning the signal thread"))?;
    Ok(())
}
