//! Fuzzes the yt-dlp info JSON reader (`sofathek::ytdlp::info`), the file-name rules built on
//! its title, and the staging-file classifier: no panic, and a safe title is a single path
//! component that cannot escape the library.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sofathek::ytdlp::info::{parse_info_json, safe_title};
use sofathek::ytdlp::outputs::classify_staging_file;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(meta) = parse_info_json(&text) {
        let title = meta.display_title().to_owned();
        let _ = meta.is_playlist();
        let _ = meta.policy_subject();
        if let Some(duration) = meta.duration {
            assert!(duration >= 0.0, "{duration}");
        }
        check_safe(&title);
    }
    check_safe(&text);
    let _ = classify_staging_file(&text);
});

fn check_safe(title: &str) {
    let safe = safe_title(title);
    assert!(!safe.contains(['/', '\\', '\0']), "{title:?} -> {safe:?}");
    assert!(safe != "." && safe != "..", "{title:?} -> {safe:?}");
    assert!(!safe.chars().any(char::is_control), "{title:?} -> {safe:?}");
}
