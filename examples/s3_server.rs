//! A real S3-protocol server as a process (s3s-fs: S3 over a directory, with SigV4 checks and
//! the testkit's dummy credentials), for `scripts/cluster`: one bucket, `anb-media`.
//!
//! ```sh
//! cargo run --example s3_server -- /tmp/s3-root 127.0.0.1:9000
//! ```
//! Prints `listening on http://ADDR` and serves until it is stopped.

use anb_adapters::testkit::s3_server::{self, ACCESS_KEY, SECRET_KEY};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(root), Some(addr)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: s3_server ROOT ADDR (e.g. /tmp/s3-root 127.0.0.1:9000)");
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let server = s3_server::serve(root.as_ref(), listener);
    println!(
        "listening on {} (bucket {}, access key {ACCESS_KEY}, secret {SECRET_KEY})",
        server.endpoint, server.bucket
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
