//! The open-file limit, checked before anything starts: a run that cannot open its clients' sockets
//! fails at once, naming the largest `--clients` that fits. The fan-out floor's phase needs twice
//! that when its server side runs in this process; when that does not fit it runs in its own
//! (`crate::floor::process`). As root the hard limit rises too, where the kernel lets it (`CAP_SYS_RESOURCE`).

use crate::error::Error;

/// File descriptors kept free besides one per client (runtime, logs, results, the pool's extras).
const FD_MARGIN: u64 = 256;

/// Refuses up front when the clients would not fit under the open-file limit (raising the soft
/// limit to the hard one first if that is enough), naming the largest number that would.
/// `per_client` is the descriptors one client costs in this process (3 through the chaos proxy).
pub(super) fn check_file_limit(clients: u64, per_client: u64) -> Result<(), Error> {
    let needed = clients.saturating_mul(per_client).saturating_add(FD_MARGIN);
    let Err(limit) = raise_file_limit(needed)? else {
        return Ok(());
    };
    Err(Error::FileLimit {
        clients,
        per_client,
        needed,
        limit,
        safe: limit.saturating_sub(FD_MARGIN) / per_client,
    })
}

/// The fan-out floor's phase: `clients` sockets of the load generator and as many of the floor,
/// both in this process. `Err` says why it cannot run here.
pub(super) fn check_fanout_file_limit(clients: u64) -> Result<(), String> {
    let needed = clients.saturating_mul(2).saturating_add(FD_MARGIN);
    match raise_file_limit(needed) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(limit)) => Err(format!(
            "its {clients} server-side sockets beside the {clients} clients need about {needed} \
             open files in this process, which may open at most {limit} (ulimit -n)"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Raises the soft limit (as root the hard one too) to `needed` when it is below; `Err(limit)`
/// when that is not allowed.
fn raise_file_limit(needed: u64) -> Result<Result<(), u64>, Error> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|e| Error::os("reading RLIMIT_NOFILE")(e.into()))?;
    if needed <= soft
        || (needed <= hard && setrlimit(Resource::RLIMIT_NOFILE, needed, hard).is_ok())
        || (crate::apt::is_root() && setrlimit(Resource::RLIMIT_NOFILE, needed, needed).is_ok())
    {
        return Ok(Ok(()));
    }
    Ok(Err(hard.max(soft)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_limit_refusal_names_the_largest_safe_number() {
        let err = check_file_limit(u64::MAX / 2, 1).unwrap_err().to_string();
        assert!(err.contains("largest safe --clients is"), "{err}");
        let err = check_file_limit(u64::MAX / 8, 3).unwrap_err().to_string();
        assert!(err.contains("chaos proxy"), "{err}");
        check_file_limit(10, 1).unwrap();
        check_file_limit(10, 3).unwrap();
        check_fanout_file_limit(10).unwrap();
        let why = check_fanout_file_limit(u64::MAX / 4).unwrap_err();
        assert!(why.contains("server-side sockets"), "{why}");
    }
}
