//! The HTTP server: the JSON API (`http`: state, router, authorization, Range streaming,
//! handlers, OpenAPI), the server-rendered web UI (`web`), the health report and the API's
//! error envelope. The top of the workspace below the `sofathek` binary.

pub use sofathek_http::error;
pub mod health;
pub mod http;
pub mod web;
