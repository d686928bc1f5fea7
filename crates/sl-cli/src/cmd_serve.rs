//! `streetlight serve`: the HTTP API over a store (crates/sl-server).

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::DbArg;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Address to listen on. Keep the default loopback address unless a reverse proxy
    /// with TLS sits in front.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Mark the session cookie Secure (sent over HTTPS only): use it when a TLS proxy
    /// serves the dashboard; leave it off for plain HTTP on loopback.
    #[arg(long)]
    pub secure_cookies: bool,
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    eprintln!(
        "serving {} on http://{} (API under /api/, OpenAPI at /api/openapi.json; Ctrl-C stops)",
        a.db.db.display(),
        a.addr
    );
    runtime.block_on(sl_server::serve(a.db.db, a.addr, a.secure_cookies))?;
    Ok(ExitCode::SUCCESS)
}
