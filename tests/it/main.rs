//! The end-to-end integration tests: one test binary (one link instead of one per file), each
//! file a module testing the real server, binary or library through its public surface.
//! `common` starts servers and generates media; `support/` holds the local media server and the
//! reliability helpers. Run one area with a filter: `cargo nextest run --test it crash::`.

mod common;
#[path = "support/media_server.rs"]
mod media_server;
#[path = "support/reliability.rs"]
mod reliability;

mod api;
mod auth;
mod av1;
mod bad_input;
mod children;
mod cli;
mod crash;
mod disk_full;
mod egress;
mod ingest;
mod library;
mod routes;
mod sources;
mod tidy;
mod web;
