//! The dashboard's live source: the run (`run_with_progress`) on its own std thread, reporting
//! through a **bounded** channel it writes with `try_send` (one [`Progress::Second`] per second),
//! and through a one-shot with its result when it returns. A slow terminal therefore drops frames,
//! never measurements.

use std::path::PathBuf;
use std::thread::JoinHandle;

use tickbench_loadgen::progress::Progress;
use tickbench_wire::Summary;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::Error;

/// Capacity of the progress channel: a few seconds of slack for a stalled terminal.
pub const CHANNEL_CAPACITY: usize = 64;

/// What the run returns: its summary and the folder it wrote.
pub type RunResult = Result<(Summary, PathBuf), Error>;

/// A run in progress.
#[derive(Debug)]
pub struct RunFeed {
    /// Per-second progress, drained by the screen every frame.
    pub progress: mpsc::Receiver<Progress>,
    /// The run's result once it returns (an error if its thread panicked).
    pub done: oneshot::Receiver<RunResult>,
    /// Stops the run; it still writes its (incomplete) results before returning.
    pub cancel: CancellationToken,
    worker: JoinHandle<()>,
}

impl RunFeed {
    /// Starts the run. Raw mode turns Ctrl-C into a key, but SIGTERM (or SIGINT from `kill`) must
    /// stop it too, so the signals cancel it as well.
    pub fn start(opts: tickbench_loadgen::RunOpts) -> Result<Self, Error> {
        let (tx, progress) = mpsc::channel(CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        let (done_tx, done) = oneshot::channel();
        let run_cancel = cancel.clone();
        tickbench_loadgen::cancel_on_signals(cancel.clone())?;
        let worker = std::thread::Builder::new()
            .name("tickbench-run".into())
            .spawn(move || {
                let r = tickbench_loadgen::run_with_progress(opts, Some(tx), run_cancel)
                    .map_err(Error::from);
                let _ = done_tx.send(r);
            })
            .map_err(Error::Runtime)?;
        Ok(Self {
            progress,
            done,
            cancel,
            worker,
        })
    }

    /// Cancels the run and waits for its thread: whatever ended the screen, the run must not
    /// outlive it unnoticed.
    pub fn stop(self) {
        self.cancel.cancel();
        let _ = self.worker.join();
    }
}
