//! [`run`]: the `tickbench serve` process: a server on its own runtime until a signal (or the end
//! of stdin) stops it.

use std::io::Write as _;

use crate::error::Error;
use crate::handle::spawn;
use crate::opts::ServeOpts;

/// Runs the server until SIGINT/SIGTERM (or, with `--exit-on-stdin-close`, end of stdin). Prints
/// `listening on http://ADDR` (`https://` with `--tls`) as the first stdout line (and flushes
/// it) so a parent process started with `--addr 127.0.0.1:0` learns the port; with `--tls` the
/// second line is `tls sha256 AB:CD:...`, the certificate's fingerprint for clients to pin, and
/// `--tls-cert-out` has been written before the first.
pub fn run(opts: ServeOpts) -> Result<(), Error> {
    raise_fd_limit();
    let config = opts.load_config()?;
    config.validate()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    rt.block_on(async move {
        let server = spawn(config.clone(), opts.addr).await?;
        if let (Some(path), Some(tls)) = (&opts.tls_cert_out, server.tls()) {
            std::fs::write(path, tls.cert_pem())
                .map_err(|e| Error::BadConfig(format!("tls-cert-out {}: {e}", path.display())))?;
        }
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {}", server.url())
                .and_then(|()| match server.tls() {
                    Some(tls) => writeln!(out, "tls sha256 {}", tls.fingerprint()),
                    None => Ok(()),
                })
                .and_then(|()| out.flush())
                .map_err(Error::Stdout)?;
        }
        if let Some(r) = &config.replay {
            tracing::info!(tape = %r.tape.path().display(), ticks = r.tape.ticks().len(), speed = r.speed, "replaying");
        }
        tracing::info!(
            rate = config.rate,
            seed = config.seed,
            symbols = config.symbols,
            retain = config.retain,
            max_conns = config.max_conns,
            epoch_us = server.epoch_us(),
            "serving"
        );
        if opts.exit_on_stdin_close {
            tokio::select! {
                r = wait_for_signal() => r?,
                _ = stdin_closed() => tracing::info!("stdin closed"),
            }
        } else {
            wait_for_signal().await?;
        }
        tracing::info!("shutting down");
        server.shutdown().await;
        Ok(())
    })
}

/// Resolves when stdin reaches end of file (or fails). A plain thread, not `tokio::io::stdin`:
/// tokio's stdin reads on a blocking-pool thread that would hold up the runtime's shutdown while
/// the read is pending; this thread is simply abandoned when the process exits.
async fn stdin_closed() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("tickbench-stdin".into())
        .spawn(move || {
            use std::io::Read as _;
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 4096];
            // Whatever the parent writes is ignored; only EOF (or an error) matters.
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            let _ = tx.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = rx.await;
        }
        Err(e) => {
            tracing::warn!("cannot watch stdin ({e}); only signals stop the server");
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves on the first SIGTERM or SIGINT.
async fn wait_for_signal() -> Result<(), Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let install = |kind, signal_name| {
        signal(kind).map_err(|source| Error::Signal {
            signal: signal_name,
            source,
        })
    };
    let mut term = install(SignalKind::terminate(), "SIGTERM")?;
    let mut int = install(SignalKind::interrupt(), "SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

/// Raises the soft fd limit to the hard one: thousands of streaming clients each need an fd.
fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                tracing::debug!("cannot raise the fd limit: {e}");
            }
        }
    }
}
