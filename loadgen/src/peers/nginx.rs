//! nginx + Nchan: `peers/nchan/nginx.conf` rendered under the prefix, and its command line.

use std::path::Path;
use std::process::Command;

use super::opts::{with_file_limit, PeerOpts};
use crate::error::Error;

/// The shipped config, with `{{...}}` fields.
pub const CONFIG: &str = include_str!("../../../peers/nchan/nginx.conf");

/// Debian's Nchan module.
pub const MODULE: &str = "/usr/lib/nginx/modules/ngx_nchan_module.so";

/// Renders the config into `prefix` and returns the command that runs nginx in the foreground.
pub fn command(prefix: &Path, port: u16, opts: &PeerOpts) -> Result<Command, Error> {
    for d in ["tmp", "logs"] {
        std::fs::create_dir_all(prefix.join(d)).map_err(Error::os("creating nginx's prefix"))?;
    }
    let conf = CONFIG
        .replace("{{module}}", MODULE)
        .replace("{{workers}}", &opts.workers.max(1).to_string())
        .replace("{{nofile}}", &opts.nofile.to_string())
        .replace(
            "{{connections}}",
            &opts.nofile.saturating_sub(100).to_string(),
        )
        .replace("{{prefix}}", &prefix.display().to_string())
        .replace("{{port}}", &port.to_string());
    let path = prefix.join("nginx.conf");
    std::fs::write(&path, conf).map_err(Error::os("writing nginx.conf"))?;
    let mut cmd = with_file_limit(opts.nofile, "nginx");
    cmd.arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(&path)
        .arg("-g")
        .arg("daemon off;");
    Ok(cmd)
}
