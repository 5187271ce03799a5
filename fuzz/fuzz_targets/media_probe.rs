//! Fuzzes the readers of untrusted media facts: ffprobe's JSON (`sofathek::media::probe::
//! parse_ffprobe`), the container sniffers that read the first bytes of an upload (MP4 box walk,
//! EBML DocType), and the keep/remux/transcode plan built from them. No panic, no endless loop,
//! and a plan's ffmpeg command line reads the input and writes the output it was given.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sofathek::media::plan::{Plan, ffmpeg_args, plan, thumbnail_args, thumbnail_seek};
use sofathek::media::probe::{matroska_doctype, mp4_is_faststart, parse_ffprobe, sniff_container};
use sofathek_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let json = input.text();
    let bytes = input.rest();
    let _ = mp4_is_faststart(Cursor::new(bytes));
    let _ = matroska_doctype(Cursor::new(bytes));
    let facts = sniff_container(Cursor::new(bytes)).unwrap_or_default();
    let Ok(info) = parse_ffprobe(&json) else {
        return;
    };
    let _ = info.is_image_format();
    let _ = info.format_names().count();
    if let Some(duration) = info.duration {
        let seek = thumbnail_seek(Some(duration));
        assert!(seek.is_finite() && seek >= 0.0, "{duration} -> seek {seek}");
    }
    let Some(plan) = plan(&info, &facts) else {
        assert!(
            info.primary_video().is_none() || !info.is_media(),
            "media without a plan: {info:?}"
        );
        return;
    };
    assert!(
        info.is_media(),
        "a plan for something that is not media: {info:?}"
    );
    let input_path = Path::new("/data/staging/job/work/source.bin");
    let output_path = Path::new("/data/staging/job/work/out.mp4");
    match ffmpeg_args(plan, input_path, output_path, true, "veryfast") {
        None => assert!(
            matches!(plan, Plan::Keep { .. }),
            "{plan:?} without arguments"
        ),
        Some(args) => {
            let text: Vec<String> = args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            assert!(text.iter().any(|a| a.ends_with("source.bin")), "{text:?}");
            assert!(
                text.last().is_some_and(|a| a.ends_with("out.mp4")),
                "{text:?}"
            );
        }
    }
    let thumb = thumbnail_args(
        input_path,
        Path::new("/data/staging/job/work/t.webp"),
        info.duration,
    );
    assert!(!thumb.is_empty());
});
