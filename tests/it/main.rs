//! The end-to-end integration tests: one test binary (one link instead of one per file), each
//! file a module testing the real server, binary or library through its public surface.
//! `support` (one module) starts servers and generates media; its `media_server` is the local
//! media server, its `reliability` the crash and fault helpers. Run one area with a filter:
//! `cargo nextest run --test it crash::`.

mod support;

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
