//! ffprobe/ffmpeg: probe parsing, the browser-playability plan and progress parsing.

pub mod plan;
pub mod probe;
pub mod progress;
