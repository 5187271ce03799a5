//! SOFATHEK: a self-hosted family video library (library crate; the binary is a thin CLI on top).

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod egress;
pub mod error;
pub mod events;
pub mod health;
pub mod http;
pub mod import;
pub mod ingest;
pub mod library;
pub mod media;
pub mod metrics;
pub mod process;
pub mod urlpolicy;
pub mod web;
pub mod ytdlp;
