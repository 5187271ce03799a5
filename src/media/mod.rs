//! ffprobe/ffmpeg: probe parsing, the browser-playability plan and progress parsing.
