//! yt-dlp: argument building, progress parsing and error classification.
