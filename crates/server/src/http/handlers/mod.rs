//! Route handlers, one file per resource, named by verb.

pub mod categories;
pub mod events;
pub mod files;
pub mod health;
pub mod jobs;
pub mod library;
pub mod meta;
pub mod profiles;
pub mod progress;
pub use sofathek_http::session;
pub mod tokens;
pub mod upload;
pub mod videos;
pub mod youtube;
