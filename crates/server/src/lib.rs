//! The HTTP server: the router with every route, its middleware and `serve`, the JSON API's
//! handlers and the OpenAPI document (`http`). It sits on `sofathek-http` (state, authorization,
//! error envelope, file streaming, health) and `sofathek-web` (the pages), and re-exports them
//! under their old names.

pub mod http;

pub use sofathek_http::{error, health};
pub use sofathek_web as web;
