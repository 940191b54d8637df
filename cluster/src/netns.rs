//! Hosts of their own on one machine: a network namespace per process (`ip netns`, Debian's
//! iproute2), each joined by a veth pair to one bridge that lives in a namespace of its own, so
//! nothing silently relies on loopback or a shared port space, and a link can be cut.
//!
//! Every name carries the cluster's id: the namespaces are `tb-<id>-<host>` (the bridge's is
//! `tb-<id>-br`), so clusters started in parallel never collide. The host's root namespace is
//! never touched: each veth pair is created inside the bridge namespace with its other end put
//! straight into the host's namespace (`ip -n BR link add HOST type veth peer name eth0 netns NS`),
//! and the private addresses ([`SUBNET`]) exist only on those veths. Two clusters may use the same
//! addresses: their bridges share nothing.
//!
//! A partition is the bridge-side end of a host's veth set down ([`Net::link`]): the host keeps
//! its address and routes, its packets go nowhere until the link is up again.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use crate::error::Error;

/// The first three octets of every cluster's private /24 (on veths between the cluster's own
/// namespaces only).
pub const SUBNET: [u8; 3] = [10, 213, 0];
/// Where `ip netns add` puts its namespaces.
const RUN_NETNS: &str = "/run/netns";
/// A host's end of its veth, inside its namespace.
pub const HOST_IF: &str = "eth0";
/// The bridge, inside the bridge namespace.
const BRIDGE: &str = "br0";

/// What `--netns` needs, said when it is missing.
pub const NEEDS: &str = "--netns needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN, e.g. sudo) and iproute2's `ip` (apt-get install -y iproute2)";

/// Whether this process can make namespaces: root and `ip` on the PATH; the error says what is
/// missing.
pub fn check() -> Result<(), Error> {
    if !tickbench_loadgen::apt::is_root() {
        return Err(Error::Netns(format!("{NEEDS}: not running as root")));
    }
    if ip_binary().is_none() {
        return Err(Error::Netns(format!("{NEEDS}: no `ip` found")));
    }
    Ok(())
}

fn ip_binary() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into(), "/usr/bin".into()])
        .map(|d| d.join("ip"))
        .find(|p| p.is_file())
}

/// Runs `ip ARGS`; its stderr is the error.
fn ip(args: &[&str]) -> Result<(), Error> {
    let bin = ip_binary().ok_or_else(|| Error::Netns(format!("{NEEDS}: no `ip` found")))?;
    let out = Command::new(bin)
        .args(args)
        .output()
        .map_err(|e| Error::Netns(format!("cannot run ip: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Netns(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// One cluster's namespaces: the bridge's and one per host.
#[derive(Debug, Clone)]
pub struct Net {
    /// The cluster id every name carries.
    pub id: String,
}

/// A host on the bridge: its namespace and address.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Host {
    /// Short name (`edge1`); also the name of its veth's bridge-side end.
    pub name: String,
    /// Its namespace (`tb-<id>-edge1`).
    pub ns: String,
    pub addr: Ipv4Addr,
}

impl Net {
    pub fn new(id: &str) -> Net {
        Net { id: id.to_string() }
    }

    /// The namespace name of host `name`.
    pub fn ns(&self, name: &str) -> String {
        format!("tb-{}-{name}", self.id)
    }

    /// The bridge's namespace.
    pub fn bridge_ns(&self) -> String {
        self.ns("br")
    }

    /// Creates the bridge namespace and its bridge (up, with loopback up).
    pub fn create(&self) -> Result<(), Error> {
        check()?;
        let br = self.bridge_ns();
        ip(&["netns", "add", &br])?;
        ip(&["-n", &br, "link", "set", "lo", "up"])?;
        ip(&["-n", &br, "link", "add", BRIDGE, "type", "bridge"])?;
        ip(&["-n", &br, "link", "set", BRIDGE, "up"])
    }

    /// Adds host `name` (at most 15 bytes, a Linux interface name) with address
    /// `SUBNET.octet/24`: its namespace, loopback up, and its veth to the bridge, both ends up.
    pub fn add_host(&self, name: &str, octet: u8) -> Result<Host, Error> {
        if name.is_empty() || name.len() > 15 || name == BRIDGE || name == "lo" {
            return Err(Error::Netns(format!("bad host name {name:?}")));
        }
        let br = self.bridge_ns();
        let ns = self.ns(name);
        let addr = Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], octet);
        ip(&["netns", "add", &ns])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        ip(&[
            "-n", &br, "link", "add", name, "type", "veth", "peer", "name", HOST_IF, "netns", &ns,
        ])?;
        ip(&["-n", &br, "link", "set", name, "master", BRIDGE, "up"])?;
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            HOST_IF,
        ])?;
        ip(&["-n", &ns, "link", "set", HOST_IF, "up"])?;
        Ok(Host {
            name: name.to_string(),
            ns,
            addr,
        })
    }

    /// Sets host `name`'s link (its veth's bridge-side end) up or down: heal or partition.
    pub fn link(&self, name: &str, up: bool) -> Result<(), Error> {
        let state = if up { "up" } else { "down" };
        ip(&["-n", &self.bridge_ns(), "link", "set", name, state])
    }

    /// The cluster's namespaces that exist now, bridge last.
    pub fn existing(&self) -> Vec<String> {
        let prefix = format!("tb-{}-", self.id);
        let mut names: Vec<String> = std::fs::read_dir(RUN_NETNS)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with(&prefix))
            .collect();
        let br = self.bridge_ns();
        names.sort_by_key(|n| (*n == br, n.clone()));
        names
    }

    /// Deletes every namespace of this cluster (their veths go with them); idempotent. Stop the
    /// processes inside first: a namespace outlives its name while a process holds it.
    pub fn remove(&self) -> Result<(), Error> {
        let mut first_err = None;
        for ns in self.existing() {
            if let Err(e) = ip(&["netns", "del", &ns]) {
                if Path::new(RUN_NETNS).join(&ns).exists() {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// Moves the calling thread into namespace `ns` (its sockets are made there from now on).
/// Call it on a thread of its own: the rest of the process stays where it was.
pub fn enter(ns: &str) -> Result<(), Error> {
    let path = Path::new(RUN_NETNS).join(ns);
    let f = std::fs::File::open(&path)
        .map_err(|e| Error::Netns(format!("cannot open {}: {e}", path.display())))?;
    nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| Error::Netns(format!("setns {ns}: {e} ({NEEDS})")))
}

/// Runs `f` on a new thread inside namespace `ns` (or where this process is, for `None`) and
/// returns its result.
pub fn run_in<T: Send + 'static>(
    ns: Option<&str>,
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let ns = ns.map(str::to_string);
    std::thread::spawn(move || {
        if let Some(ns) = &ns {
            enter(ns)?;
        }
        f()
    })
    .join()
    .map_err(|_| Error::Netns("a thread in a namespace panicked".into()))?
}
