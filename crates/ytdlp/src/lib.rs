//! yt-dlp: argument building, progress parsing, error classification, its info JSON, the files it
//! leaves in the staging directory, the listing of a channel, playlist or feed, and the content
//! policy applied to what it finds.

pub mod args;
pub mod errors;
pub mod info;
pub mod listing;
pub mod outputs;
pub mod policy;
pub mod progress;
