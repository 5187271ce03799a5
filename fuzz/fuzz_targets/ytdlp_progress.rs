//! Fuzzes yt-dlp's progress-line parser (`sofathek::ytdlp::progress::parse_progress_line`) and the
//! stderr classifier: no panic, and a parsed percent is a finite number from 0 to 100.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sofathek::ytdlp::args::PROGRESS_PREFIX;
use sofathek::ytdlp::errors::{classify, is_max_filesize_abort};
use sofathek::ytdlp::progress::parse_progress_line;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in [text.to_string(), format!("{PROGRESS_PREFIX}{text}")] {
        if let Some(progress) = parse_progress_line(&line) {
            if let Some(percent) = progress.percent {
                assert!(
                    percent.is_finite() && (0.0..=100.0).contains(&percent),
                    "{line:?}: {percent}"
                );
            }
            if let Some(speed) = progress.speed {
                assert!(!speed.is_nan(), "{line:?}");
            }
            let _ = progress.is_video();
        }
    }
    let failure = classify(&text);
    let message = failure.user_text();
    assert!(!message.is_empty(), "{text:?} classified without a message");
    let _ = is_max_filesize_abort(&text);
});
