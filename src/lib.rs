//! SOFATHEK: a self-hosted family video library. The `sofathek` binary (`main.rs`, `cli.rs`)
//! sits on top of the workspace's layers (see ARCHITECTURE.md); this library only re-exports
//! them under the names the integration tests, examples and fuzz targets use. The command
//! line lives in the binary so that a rebuild after an edit below compiles one crate less.

pub use sofathek_core::{auth, config, egress, events, library, memo, metrics, urlpolicy};
pub use sofathek_db as db;
pub use sofathek_ingest as ingest;
pub use sofathek_ingest::import;
pub use sofathek_media as media;
pub use sofathek_process as process;
pub use sofathek_server::{error, health, http, web};
pub use sofathek_ytdlp as ytdlp;
