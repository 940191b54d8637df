//! The open-file limit, checked before anything starts: a run that cannot open its clients' sockets
//! fails at once, naming the largest `--clients` that fits.

use crate::error::Error;

/// File descriptors kept free besides one per client (runtime, logs, results, the pool's extras).
const FD_MARGIN: u64 = 256;

/// Refuses up front when the clients would not fit under the open-file limit (raising the soft
/// limit to the hard one first if that is enough), naming the largest number that would.
/// `per_client` is the descriptors one client costs in this process (3 through the chaos proxy).
pub(super) fn check_file_limit(clients: u64, per_client: u64) -> Result<(), Error> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let needed = clients.saturating_mul(per_client).saturating_add(FD_MARGIN);
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|e| Error::os("reading RLIMIT_NOFILE")(e.into()))?;
    if needed <= soft {
        return Ok(());
    }
    if needed <= hard && setrlimit(Resource::RLIMIT_NOFILE, needed, hard).is_ok() {
        return Ok(());
    }
    let limit = hard.max(soft);
    Err(Error::FileLimit {
        clients,
        per_client,
        needed,
        limit,
        safe: limit.saturating_sub(FD_MARGIN) / per_client,
    })
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
    }
}
