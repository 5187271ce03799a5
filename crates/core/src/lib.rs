//! SOFATHEK's domain below the pipeline and the server: configuration, the library folder
//! (layout, file rules, atomic publish, sidecars, scan rules), which URLs may be fetched and the
//! egress guard that enforces it on every connection, family access (profiles, secrets, the
//! parent password), metrics, the event bus, and the memo that lets hot lookups skip SQLite.
//!
//! Nothing here speaks HTTP to a browser or spawns a process: it depends only on
//! `sofathek-db` among the workspace's crates.

pub mod auth;
pub mod config;
pub mod egress;
pub mod events;
pub mod library;
pub mod memo;
pub mod metrics;
pub mod names;
pub mod urlpolicy;
