//! HTTP building blocks below the server: the API's error envelope (and the one mapping of
//! ingest refusals to statuses), Range and conditional-request parsing, and streaming a file
//! with 206/304/416. Nothing here knows the application's state or routes, so a handler edit
//! in `sofathek-server` does not recompile them.

pub mod error;
pub mod json;
pub mod range;
pub mod serve_file;
