//! Route handlers, one file per resource, named by verb.

pub mod categories;
pub mod files;
pub mod health;
pub mod meta;
pub mod videos;
