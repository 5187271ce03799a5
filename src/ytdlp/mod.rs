//! yt-dlp: argument building, progress parsing and error classification.

pub mod args;
pub mod errors;
pub mod info;
pub mod outputs;
pub mod policy;
pub mod progress;
