//! Runs SOFATHEK's egress guard alone for `scripts/bench-egress`: allows the `host:port` pairs
//! given as arguments, prints one ticket's proxy URL and serves until standard input closes.
//!
//! `cargo run --release --example egress_proxy -- 127.0.0.1:8080`

use std::io::{BufRead, Write};
use std::sync::Arc;

fn main() -> anyhow::Result<()> {
    let allowed = std::env::args().skip(1).collect::<Vec<_>>().join(",");
    let rules = sofathek::egress::Rules {
        allowed: sofathek::egress::parse_allow_list(&allowed).map_err(anyhow::Error::msg)?,
        ..Default::default()
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let stop = tokio_util::sync::CancellationToken::new();
    let metrics = Arc::new(sofathek::metrics::Metrics::new());
    let guard = sofathek::egress::Guard::new(rules, metrics, stop.clone())?;
    let ticket = runtime.block_on(async { guard.ticket("bench", u64::MAX) })?;
    println!("{}", ticket.url());
    std::io::stdout().flush()?;
    // Serve until the benchmark closes our standard input.
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
    stop.cancel();
    drop(ticket);
    Ok(())
}
