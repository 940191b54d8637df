//! Ctrl-C and SIGTERM during a sweep: the first cancels the running cell, a second exits at once.

use tokio_util::sync::CancellationToken;

use crate::error::Error;

/// Cancels on Ctrl-C or SIGTERM; a second Ctrl-C exits at once (130) for a sweep that hangs.
pub(crate) fn cancel_on_signals(cancel: CancellationToken) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::io("building the signal runtime"))?;
    std::thread::Builder::new()
        .name("sweep-signals".into())
        .spawn(move || {
            rt.block_on(async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                let term_recv = async {
                    match term.as_mut() {
                        Some(t) => {
                            t.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term_recv => {}
                }
                eprintln!(
                    "\ntickbench sweep: stopping; writing partial results (Ctrl-C again to quit now)"
                );
                cancel.cancel();
                let _ = tokio::signal::ctrl_c().await;
                std::process::exit(130);
            })
        })
        .map_err(Error::io("starting the signal thread"))?;
    Ok(())
}
