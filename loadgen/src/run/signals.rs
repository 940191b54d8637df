//! [`cancel_on_signals`]: Ctrl-C and SIGTERM as a cancellation, so an interrupted run still writes
//! what it measured.

use tokio_util::sync::CancellationToken;

use crate::error::Error;

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
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                    _ = cancel.cancelled() => return,
                }
                cancel.cancel();
            })
        })
        .map_err(Error::os("spawning the signal thread"))?;
    Ok(())
}
