//! `--chaos restart=PERIOD`: restarting the embedded server on a period, and the lock every user
//! of the shared server takes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::chaos::ChaosProxy;
use crate::child::ChildServer;
use crate::error::Error;

/// Locks the child server, whatever a panicking holder left behind (the process handle is still
/// right).
pub(super) fn lock(c: &Mutex<ChildServer>) -> std::sync::MutexGuard<'_, ChildServer> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

/// `--chaos restart=PERIOD`: a thread that restarts the embedded server every period (SIGTERM, then
/// the same server on the same port) and counts it. Dropping it stops the restarts.
pub(super) struct Restarter {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Restarter {
    pub(super) fn start(
        period: Duration,
        child: Arc<Mutex<ChildServer>>,
        proxy: Arc<ChaosProxy>,
    ) -> Result<Restarter, Error> {
        let (stop, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("chaos-restart".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(period)
                {
                    // The coordinator only `try_lock`s: while this holds the lock it knows the
                    // server is restarting and does not mistake the gap for a crash.
                    let mut c = lock(&child);
                    match c.restart() {
                        Ok(()) => proxy.count_restart(),
                        Err(e) => {
                            tracing::error!("chaos: restarting the server failed: {e:#}");
                            return;
                        }
                    }
                }
            })
            .map_err(Error::os("spawning the restart thread"))?;
        Ok(Restarter {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Restarter {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
