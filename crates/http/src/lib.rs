//! The server's foundation, below the API handlers and the web pages (which depend on it and
//! not on each other): the application state ([`state::AppState`]), the authorization layer and
//! sessions ([`auth`], [`session`]), the API's error envelope (and the one mapping of ingest
//! refusals to statuses), JSON rejections, Range parsing and file streaming with 206/304/416,
//! and the health report. A handler edit in `sofathek-server` recompiles none of it.

pub mod auth;
pub mod error;
pub mod file_cache;
pub mod health;
pub mod json;
pub mod range;
pub mod schema;
pub mod serve_file;
pub mod session;
pub mod state;
