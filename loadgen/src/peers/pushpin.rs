//! Pushpin: `peers/pushpin/pushpin.conf` rendered under the prefix, and its runner's command line
//! (one HTTP port, the route to the GRIP backend with WebSockets as WebSocket-over-HTTP, every
//! service's output merged into one log).

use std::path::Path;
use std::process::Command;

use super::opts::{with_file_limit, PeerOpts};
use crate::error::Error;

/// The shipped config, with `{{...}}` fields.
pub const CONFIG: &str = include_str!("../../../peers/pushpin/pushpin.conf");

pub fn command(
    prefix: &Path,
    port: u16,
    publish_port: u16,
    backend_port: u16,
    opts: &PeerOpts,
) -> Result<Command, Error> {
    for d in ["run", "log"] {
        std::fs::create_dir_all(prefix.join(d)).map_err(Error::os("creating Pushpin's prefix"))?;
    }
    let conf = CONFIG
        .replace("{{prefix}}", &prefix.display().to_string())
        .replace("{{port}}", &port.to_string())
        .replace("{{publish_port}}", &publish_port.to_string())
        .replace("{{nofile}}", &opts.nofile.saturating_sub(100).to_string());
    let path = prefix.join("pushpin.conf");
    std::fs::write(&path, conf).map_err(Error::os("writing pushpin.conf"))?;
    // `over_http`: WebSocket clients reach the backend as WebSocket-over-HTTP.
    let route = format!("* 127.0.0.1:{backend_port},over_http");
    std::fs::write(prefix.join("routes"), format!("{route}\n"))
        .map_err(Error::os("writing Pushpin's routes"))?;
    let mut cmd = with_file_limit(opts.nofile, "pushpin");
    cmd.arg("--config")
        .arg(&path)
        .arg("--port")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--route")
        .arg(route)
        .arg("--merge-output");
    Ok(cmd)
}
