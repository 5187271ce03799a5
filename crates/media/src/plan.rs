//! Decides how to make a file browser-playable (keep, remux or transcode) from what ffprobe
//! found, and builds the ffmpeg command lines for that and for thumbnails, MP3 copies and
//! subtitle conversion.
//!
//! Browser-safe means: in MP4, H.264, VP9 or AV1 video with AAC, MP3 or Opus audio; in WebM,
//! VP8, VP9 or AV1 video with Opus or Vorbis audio; video in 8-bit 4:2:0 (10-bit 4:2:0 allowed
//! for VP9 and AV1). Only the first moving-picture video stream and the first audio stream are
//! considered and kept; other tracks (extra audio, subtitles, data) are dropped on conversion.

use std::ffi::OsString;
use std::path::Path;

use super::probe::{ContainerFacts, MediaInfo, StreamInfo, file_url};

/// Video codecs a browser plays from MP4.
const MP4_VIDEO: &[&str] = &["h264", "vp9", "av1"];
/// Audio codecs a browser plays from MP4.
const MP4_AUDIO: &[&str] = &["aac", "mp3", "opus"];
/// Video codecs a browser plays from WebM.
const WEBM_VIDEO: &[&str] = &["vp8", "vp9", "av1"];
/// Audio codecs a browser plays from WebM.
const WEBM_AUDIO: &[&str] = &["opus", "vorbis"];

/// libx264 speed/size trade-off (a home server often has few cores).
pub const X264_PRESET: &str = "veryfast";
/// libx264 constant quality.
const X264_CRF: &str = "23";
/// AAC bit rate of re-encoded audio (stereo).
const AAC_BITRATE: &str = "160k";
/// Thumbnail width in pixels (height follows the aspect ratio, rounded to even).
const THUMBNAIL_FILTER: &str = "scale=480:-2";
/// Videos shorter than this get their thumbnail from the first frame.
const THUMBNAIL_MIN_DURATION: f64 = 1.0;

/// A container a browser plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// MP4 (ISO BMFF), with `moov` first.
    Mp4,
    /// WebM (Matroska subset).
    WebM,
}

impl Container {
    /// The file extension, without dot.
    pub fn ext(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::WebM => "webm",
        }
    }

    /// The MIME type served for it.
    pub fn mime(self) -> &'static str {
        match self {
            Container::Mp4 => "video/mp4",
            Container::WebM => "video/webm",
        }
    }

    /// ffmpeg's muxer name.
    fn muxer(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::WebM => "webm",
        }
    }
}

/// What to do with a file so browsers can play it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Already playable: publish the file as it is, with the container's extension.
    Keep {
        /// The file's container.
        container: Container,
    },
    /// Playable codecs in the wrong container (or MP4 without faststart): copy the streams into
    /// `container` without re-encoding.
    Remux {
        /// The target container.
        container: Container,
    },
    /// Re-encode into an H.264/AAC MP4 with faststart.
    Transcode {
        /// Whether the video is re-encoded with libx264 (else copied, being H.264 already).
        video: bool,
        /// Whether the audio is re-encoded to AAC (else copied: AAC already, or no audio).
        audio: bool,
    },
}

impl Plan {
    /// The container of the published file.
    pub fn container(self) -> Container {
        match self {
            Plan::Keep { container } | Plan::Remux { container } => container,
            Plan::Transcode { .. } => Container::Mp4,
        }
    }

    /// A short name for logs and metrics (`keep`, `remux`, `transcode`).
    pub fn name(self) -> &'static str {
        match self {
            Plan::Keep { .. } => "keep",
            Plan::Remux { .. } => "remux",
            Plan::Transcode { .. } => "transcode",
        }
    }
}

/// The container a file is in, as far as the plan cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Mp4,
    Mov,
    WebM,
    Matroska,
    Other,
}

/// Classifies the input container: ffprobe names MP4 and MOV alike (told apart by the `qt  `
/// brand) and Matroska and WebM alike (told apart by the DocType in `facts`).
fn source(info: &MediaInfo, facts: &ContainerFacts) -> Source {
    let mut names = info.format_names();
    if names.any(|n| n == "mp4" || n == "mov") {
        return if info.major_brand.as_deref().map(str::trim) == Some("qt") {
            Source::Mov
        } else {
            Source::Mp4
        };
    }
    if info.format_names().any(|n| n == "matroska" || n == "webm") {
        return if facts.matroska_doctype.as_deref() == Some("webm") {
            Source::WebM
        } else {
            Source::Matroska
        };
    }
    Source::Other
}

/// Whether the video stream's pixel format is one browsers decode for its codec (unknown
/// formats are given the benefit of the doubt).
fn pixels_ok(video: &StreamInfo) -> bool {
    let Some(pix) = video.pix_fmt.as_deref() else {
        return true;
    };
    match video.codec() {
        "vp9" | "av1" => matches!(pix, "yuv420p" | "yuvj420p" | "yuv420p10le"),
        _ => matches!(pix, "yuv420p" | "yuvj420p"),
    }
}

/// Decides what to do with a probed file; `None` when it has no moving-picture video (see
/// [`MediaInfo::is_media`]): refuse it as not a video.
///
/// - Keep: MP4 with faststart, or WebM, whose codecs are browser-safe for that container.
/// - Remux: browser-safe codecs elsewhere (MOV, MKV, AVI, TS, MP4 without faststart). When the
///   codecs are WebM's own (VP8/VP9/AV1 with Opus/Vorbis, e.g. VP9/Opus in MKV) the target is
///   WebM, their native container; otherwise MP4 with faststart.
/// - Transcode: anything else (HEVC, MPEG-4 Part 2, WMV, FLV, 10-bit or 4:4:4 H.264, ...) to
///   H.264/AAC MP4; an H.264 video or AAC audio stream is copied instead of re-encoded.
pub fn plan(info: &MediaInfo, facts: &ContainerFacts) -> Option<Plan> {
    if !info.is_media() {
        return None;
    }
    let video = info.primary_video()?;
    let audio = info.primary_audio();
    let audio_in = |set: &[&str]| audio.is_none_or(|a| set.contains(&a.codec()));
    let pixels = pixels_ok(video);
    let mp4_safe = pixels && MP4_VIDEO.contains(&video.codec()) && audio_in(MP4_AUDIO);
    let webm_safe = pixels && WEBM_VIDEO.contains(&video.codec()) && audio_in(WEBM_AUDIO);
    let plan = match source(info, facts) {
        Source::Mp4 if mp4_safe && facts.mp4_faststart => Plan::Keep {
            container: Container::Mp4,
        },
        Source::Mp4 if mp4_safe => Plan::Remux {
            container: Container::Mp4,
        },
        Source::WebM if webm_safe => Plan::Keep {
            container: Container::WebM,
        },
        _ if webm_safe => Plan::Remux {
            container: Container::WebM,
        },
        _ if mp4_safe => Plan::Remux {
            container: Container::Mp4,
        },
        _ => Plan::Transcode {
            video: !(pixels && video.codec() == "h264"),
            audio: audio.is_some_and(|a| a.codec() != "aac"),
        },
    };
    Some(plan)
}

/// Argument list under construction.
#[derive(Default)]
struct Args(Vec<OsString>);

impl Args {
    /// The options every ffmpeg run here starts with.
    fn ffmpeg(progress: bool) -> Args {
        let mut args = Args::default();
        args.strs(&[
            "-nostdin",
            "-y",
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostats",
        ]);
        if progress {
            args.strs(&["-progress", "pipe:1"]);
        }
        args
    }

    /// Appends string arguments.
    fn strs(&mut self, items: &[&str]) -> &mut Args {
        self.0.extend(items.iter().map(OsString::from));
        self
    }

    /// Appends `-i file:<input>`.
    fn input(&mut self, path: &Path) -> &mut Args {
        self.0.push(OsString::from("-i"));
        self.0.push(file_url(path));
        self
    }

    /// Appends `-f <muxer> file:<output>`.
    fn output(&mut self, muxer: &str, path: &Path) -> Vec<OsString> {
        self.strs(&["-f", muxer]);
        self.0.push(file_url(path));
        std::mem::take(&mut self.0)
    }
}

/// The ffmpeg arguments carrying out `plan` from `input` to `output`; `None` for
/// [`Plan::Keep`], which needs no ffmpeg run. With `progress`, ffmpeg writes `-progress`
/// key=value blocks on stdout (see `media::progress`). A video transcode uses libx264 with
/// `x264_preset` (`SOFATHEK_X264_PRESET`, checked by the configuration; [`X264_PRESET`] is the
/// default).
pub fn ffmpeg_args(
    plan: Plan,
    input: &Path,
    output: &Path,
    progress: bool,
    x264_preset: &str,
) -> Option<Vec<OsString>> {
    let mut args = Args::ffmpeg(progress);
    args.input(input).strs(&["-map", "0:V:0", "-map", "0:a:0?"]);
    match plan {
        Plan::Keep { .. } => return None,
        Plan::Remux {
            container: Container::Mp4,
        } => {
            args.strs(&["-c", "copy", "-movflags", "+faststart"]);
        }
        Plan::Remux {
            container: Container::WebM,
        } => {
            args.strs(&["-c", "copy"]);
        }
        Plan::Transcode { video, audio } => {
            if video {
                args.strs(&[
                    "-c:v",
                    "libx264",
                    "-preset",
                    x264_preset,
                    "-crf",
                    X264_CRF,
                    "-pix_fmt",
                    "yuv420p",
                    "-vf",
                    "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                ]);
            } else {
                args.strs(&["-c:v", "copy"]);
            }
            if audio {
                args.strs(&["-c:a", "aac", "-b:a", AAC_BITRATE, "-ac", "2"]);
            } else {
                args.strs(&["-c:a", "copy"]);
            }
            args.strs(&["-max_muxing_queue_size", "1024", "-movflags", "+faststart"]);
        }
    }
    Some(args.output(plan.container().muxer(), output))
}

/// Where to take the thumbnail frame: 10 % into the video, or the first frame when the video is
/// shorter than a second or its duration is unknown.
pub fn thumbnail_seek(duration: Option<f64>) -> f64 {
    match duration {
        Some(d) if d.is_finite() && d >= THUMBNAIL_MIN_DURATION => d * 0.1,
        _ => 0.0,
    }
}

/// Arguments writing one frame of `input` as a 480 px wide WebP to `output_webp`.
pub fn thumbnail_args(input: &Path, output_webp: &Path, duration: Option<f64>) -> Vec<OsString> {
    let seek = format!("{:.3}", thumbnail_seek(duration));
    let mut args = Args::ffmpeg(false);
    args.strs(&["-ss", &seek]).input(input).strs(&[
        "-map",
        "0:V:0",
        "-frames:v",
        "1",
        "-vf",
        THUMBNAIL_FILTER,
        "-c:v",
        "libwebp",
        "-quality",
        "80",
    ]);
    args.output("webp", output_webp)
}

/// Arguments extracting the first audio stream of `input` as an MP3 (VBR quality 2) to `output`.
pub fn mp3_args(input: &Path, output: &Path) -> Vec<OsString> {
    let mut args = Args::ffmpeg(false);
    args.input(input)
        .strs(&["-map", "0:a:0", "-vn", "-c:a", "libmp3lame", "-q:a", "2"]);
    args.output("mp3", output)
}

/// Arguments converting the first subtitle stream of `input` (e.g. an `.srt`, read as UTF-8)
/// to WebVTT at `output`.
pub fn subtitle_to_vtt_args(input: &Path, output: &Path) -> Vec<OsString> {
    let mut args = Args::ffmpeg(false);
    args.input(input).strs(&["-map", "0:s:0", "-c:s", "webvtt"]);
    args.output("webvtt", output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::tests::{
        GIF, H264_AAC_MOV, H264_AAC_MP4, HEVC_AAC_MKV, JPEG, MJPEG_AVI, MP3, MP3_WITH_COVER,
        MPEG4_MP3_AVI, PNG, UNREADABLE, VP9_OPUS_MKV, VP9_OPUS_WEBM, probe,
    };
    use crate::probe::{StreamKind, parse_ffprobe};

    const MP4: Option<Plan> = Some(Plan::Keep {
        container: Container::Mp4,
    });

    fn facts(faststart: bool, doctype: Option<&str>) -> ContainerFacts {
        ContainerFacts {
            mp4_faststart: faststart,
            matroska_doctype: doctype.map(str::to_owned),
        }
    }

    #[test]
    fn recorded_samples() {
        let remux = |container| Some(Plan::Remux { container });
        let transcode = |video, audio| Some(Plan::Transcode { video, audio });
        for (name, json, facts, expected) in [
            (
                "h264/aac mp4, faststart",
                H264_AAC_MP4,
                facts(true, None),
                MP4,
            ),
            (
                "h264/aac mp4, moov last",
                H264_AAC_MP4,
                facts(false, None),
                remux(Container::Mp4),
            ),
            (
                "h264/aac mov",
                H264_AAC_MOV,
                facts(false, None),
                remux(Container::Mp4),
            ),
            (
                "h264/aac mov, moov first",
                H264_AAC_MOV,
                facts(true, None),
                remux(Container::Mp4),
            ),
            (
                "vp9/opus webm",
                VP9_OPUS_WEBM,
                facts(false, Some("webm")),
                Some(Plan::Keep {
                    container: Container::WebM,
                }),
            ),
            (
                "vp9/opus mkv",
                VP9_OPUS_MKV,
                facts(false, Some("matroska")),
                remux(Container::WebM),
            ),
            (
                "hevc/aac mkv",
                HEVC_AAC_MKV,
                facts(false, Some("matroska")),
                transcode(true, false),
            ),
            (
                "mpeg4/mp3 avi",
                MPEG4_MP3_AVI,
                facts(false, None),
                transcode(true, true),
            ),
            (
                "mjpeg avi",
                MJPEG_AVI,
                facts(false, None),
                transcode(true, false),
            ),
            ("png", PNG, facts(false, None), None),
            ("jpeg", JPEG, facts(false, None), None),
            ("gif", GIF, facts(false, None), None),
            ("mp3", MP3, facts(false, None), None),
            ("mp3 with cover", MP3_WITH_COVER, facts(false, None), None),
            ("unreadable", UNREADABLE, facts(false, None), None),
        ] {
            assert_eq!(plan(&probe(json), &facts), expected, "{name}");
        }
    }

    /// A probed file with one video and an optional audio stream.
    fn file(
        format: &str,
        brand: Option<&str>,
        video: (&str, &str),
        audio: Option<&str>,
    ) -> MediaInfo {
        let stream = |kind, codec: &str, pix: Option<&str>| StreamInfo {
            index: None,
            kind,
            codec_name: Some(codec.to_owned()),
            profile: None,
            width: Some(640),
            height: Some(360),
            pix_fmt: pix.map(str::to_owned),
            nb_frames: None,
            duration: None,
            attached_pic: false,
            still_image: false,
            is_default: true,
        };
        let mut streams = vec![stream(StreamKind::Video, video.0, Some(video.1))];
        streams.extend(audio.map(|a| stream(StreamKind::Audio, a, None)));
        MediaInfo {
            format_name: Some(format.to_owned()),
            major_brand: brand.map(str::to_owned),
            duration: Some(10.0),
            size: Some(1),
            bit_rate: None,
            streams,
        }
    }

    #[test]
    fn codec_table() {
        const MP4F: &str = "mov,mp4,m4a,3gp,3g2,mj2";
        const MKV: &str = "matroska,webm";
        let fast = facts(true, None);
        let webm = facts(false, Some("webm"));
        let mkv = facts(false, Some("matroska"));
        let remux = |container| Some(Plan::Remux { container });
        let transcode = |video, audio| Some(Plan::Transcode { video, audio });
        for (format, brand, video, audio, facts, expected) in [
            (
                MP4F,
                Some("isom"),
                ("h264", "yuv420p"),
                Some("aac"),
                &fast,
                MP4,
            ),
            (
                MP4F,
                Some("mp42"),
                ("h264", "yuvj420p"),
                Some("mp3"),
                &fast,
                MP4,
            ),
            (
                MP4F,
                Some("isom"),
                ("av1", "yuv420p10le"),
                Some("opus"),
                &fast,
                MP4,
            ),
            (MP4F, Some("isom"), ("vp9", "yuv420p"), None, &fast, MP4),
            (
                MP4F,
                Some("isom"),
                ("h264", "yuv420p10le"),
                Some("aac"),
                &fast,
                transcode(true, false),
            ),
            (
                MP4F,
                Some("isom"),
                ("h264", "yuv444p"),
                Some("ac3"),
                &fast,
                transcode(true, true),
            ),
            (
                MP4F,
                Some("isom"),
                ("hevc", "yuv420p"),
                Some("aac"),
                &fast,
                transcode(true, false),
            ),
            (
                MP4F,
                Some("isom"),
                ("h264", "yuv420p"),
                Some("eac3"),
                &fast,
                transcode(false, true),
            ),
            (
                MP4F,
                Some("isom"),
                ("h264", "yuv420p"),
                Some("alac"),
                &fast,
                transcode(false, true),
            ),
            (
                MP4F,
                Some("isom"),
                ("mpeg4", "yuv420p"),
                None,
                &fast,
                transcode(true, false),
            ),
            (
                MP4F,
                Some("qt  "),
                ("h264", "yuv420p"),
                Some("aac"),
                &fast,
                remux(Container::Mp4),
            ),
            (
                MP4F,
                Some("qt  "),
                ("prores", "yuv422p10le"),
                Some("pcm_s16le"),
                &fast,
                transcode(true, true),
            ),
            (
                MKV,
                None,
                ("vp8", "yuv420p"),
                Some("vorbis"),
                &webm,
                Some(Plan::Keep {
                    container: Container::WebM,
                }),
            ),
            (
                MKV,
                None,
                ("av1", "yuv420p"),
                Some("opus"),
                &webm,
                Some(Plan::Keep {
                    container: Container::WebM,
                }),
            ),
            (
                MKV,
                None,
                ("vp9", "yuv420p"),
                None,
                &mkv,
                remux(Container::WebM),
            ),
            (
                MKV,
                None,
                ("vp9", "yuv420p"),
                Some("aac"),
                &webm,
                remux(Container::Mp4),
            ),
            (
                MKV,
                None,
                ("h264", "yuv420p"),
                Some("aac"),
                &mkv,
                remux(Container::Mp4),
            ),
            (
                MKV,
                None,
                ("h264", "yuv420p"),
                Some("opus"),
                &mkv,
                remux(Container::Mp4),
            ),
            (
                MKV,
                None,
                ("h264", "yuv420p"),
                Some("flac"),
                &mkv,
                transcode(false, true),
            ),
            (
                MKV,
                None,
                ("vp8", "yuv420p"),
                Some("aac"),
                &mkv,
                transcode(true, false),
            ),
            (
                MKV,
                None,
                ("vp9", "yuv444p"),
                Some("opus"),
                &webm,
                transcode(true, true),
            ),
            (
                "avi",
                None,
                ("h264", "yuv420p"),
                Some("mp3"),
                &mkv,
                remux(Container::Mp4),
            ),
            (
                "mpegts",
                None,
                ("h264", "yuv420p"),
                Some("aac"),
                &mkv,
                remux(Container::Mp4),
            ),
            (
                "asf",
                None,
                ("wmv2", "yuv420p"),
                Some("wmav2"),
                &mkv,
                transcode(true, true),
            ),
            (
                "flv",
                None,
                ("flv1", "yuv420p"),
                Some("mp3"),
                &mkv,
                transcode(true, true),
            ),
        ] {
            let info = file(format, brand, video, audio);
            assert_eq!(
                plan(&info, facts),
                expected,
                "{format} {brand:?} {video:?} {audio:?}"
            );
        }
    }

    #[test]
    fn unknown_pixel_format_is_accepted() {
        let mut info = file(
            "mov,mp4,m4a,3gp,3g2,mj2",
            Some("isom"),
            ("h264", "yuv420p"),
            Some("aac"),
        );
        info.streams[0].pix_fmt = None;
        assert_eq!(plan(&info, &facts(true, None)), MP4);
    }

    #[test]
    fn cover_art_is_not_the_video() {
        // An MP4 whose first video stream is cover art and whose second is the real HEVC video.
        let json = r#"{"streams": [
            {"index": 0, "codec_type": "video", "codec_name": "mjpeg", "pix_fmt": "yuvj420p", "disposition": {"attached_pic": 1}},
            {"index": 1, "codec_type": "video", "codec_name": "hevc", "pix_fmt": "yuv420p", "nb_frames": "250"},
            {"index": 2, "codec_type": "audio", "codec_name": "aac"}],
            "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "tags": {"major_brand": "isom"}}}"#;
        let info = parse_ffprobe(json).unwrap_or_default();
        assert_eq!(info.primary_video().and_then(|v| v.index), Some(1));
        assert_eq!(
            plan(&info, &facts(true, None)),
            Some(Plan::Transcode {
                video: true,
                audio: false
            })
        );
    }

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    /// The options every ffmpeg run starts with, then `rest`.
    fn ffmpeg_line(rest: &[&str]) -> Vec<String> {
        [
            "-nostdin",
            "-y",
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostats",
        ]
        .iter()
        .chain(rest)
        .map(|a| (*a).to_owned())
        .collect()
    }

    fn ffmpeg(plan: Plan, progress: bool) -> Vec<String> {
        let args = ffmpeg_args(
            plan,
            Path::new("/s/-in.mkv"),
            Path::new("/s/out.mp4"),
            progress,
            X264_PRESET,
        );
        strings(&args.unwrap_or_default())
    }

    #[test]
    fn a_transcode_uses_the_configured_x264_preset() {
        let plan = Plan::Transcode {
            video: true,
            audio: true,
        };
        let args = ffmpeg_args(plan, Path::new("a"), Path::new("b"), false, "ultrafast");
        let args = strings(&args.unwrap_or_default());
        let at = args.iter().position(|a| a == "-preset").expect("-preset");
        assert_eq!(args[at + 1], "ultrafast");
        assert_eq!(args.iter().filter(|a| *a == "-preset").count(), 1);
        // A remux encodes nothing: no preset at all.
        let remux = Plan::Remux {
            container: Container::Mp4,
        };
        let args = ffmpeg_args(remux, Path::new("a"), Path::new("b"), false, "ultrafast");
        assert!(!strings(&args.unwrap_or_default()).contains(&"-preset".to_owned()));
    }

    #[test]
    fn conversion_arguments() {
        assert_eq!(
            ffmpeg_args(
                Plan::Keep {
                    container: Container::Mp4
                },
                Path::new("a"),
                Path::new("b"),
                true,
                "slow"
            ),
            None
        );
        let input = ["-i", "file:/s/-in.mkv", "-map", "0:V:0", "-map", "0:a:0?"];
        let wanted = |progress: bool, middle: &[&str], muxer: &str| {
            let mut v: Vec<&str> = Vec::new();
            if progress {
                v.extend(["-progress", "pipe:1"]);
            }
            v.extend(input);
            v.extend(middle);
            v.extend(["-f", muxer, "file:/s/out.mp4"]);
            ffmpeg_line(&v)
        };
        assert_eq!(
            ffmpeg(
                Plan::Remux {
                    container: Container::Mp4
                },
                true
            ),
            wanted(true, &["-c", "copy", "-movflags", "+faststart"], "mp4")
        );
        assert_eq!(
            ffmpeg(
                Plan::Remux {
                    container: Container::WebM
                },
                false
            ),
            wanted(false, &["-c", "copy"], "webm")
        );
        assert_eq!(
            ffmpeg(
                Plan::Transcode {
                    video: true,
                    audio: false
                },
                true
            ),
            wanted(
                true,
                &[
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-crf",
                    "23",
                    "-pix_fmt",
                    "yuv420p",
                    "-vf",
                    "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                    "-c:a",
                    "copy",
                    "-max_muxing_queue_size",
                    "1024",
                    "-movflags",
                    "+faststart"
                ],
                "mp4"
            )
        );
        assert_eq!(
            ffmpeg(
                Plan::Transcode {
                    video: false,
                    audio: true
                },
                false
            ),
            wanted(
                false,
                &[
                    "-c:v",
                    "copy",
                    "-c:a",
                    "aac",
                    "-b:a",
                    "160k",
                    "-ac",
                    "2",
                    "-max_muxing_queue_size",
                    "1024",
                    "-movflags",
                    "+faststart"
                ],
                "mp4"
            )
        );
    }

    #[test]
    fn plan_helpers() {
        assert_eq!(
            Plan::Transcode {
                video: true,
                audio: true
            }
            .container(),
            Container::Mp4
        );
        assert_eq!(
            Plan::Keep {
                container: Container::WebM
            }
            .container()
            .ext(),
            "webm"
        );
        assert_eq!(
            Plan::Remux {
                container: Container::Mp4
            }
            .name(),
            "remux"
        );
        assert_eq!(Container::WebM.mime(), "video/webm");
    }

    #[test]
    fn thumbnail_arguments() {
        for (duration, seek) in [
            (Some(120.0), 12.0),
            (Some(5.0), 0.5),
            (Some(1.0), 0.1),
            (Some(0.6), 0.0),
            (Some(0.0), 0.0),
            (Some(-3.0), 0.0),
            (Some(f64::NAN), 0.0),
            (Some(f64::INFINITY), 0.0),
            (None, 0.0),
        ] {
            assert_eq!(thumbnail_seek(duration), seek, "{duration:?}");
        }
        let args = strings(&thumbnail_args(
            Path::new("/lib/v.mp4"),
            Path::new("/lib/v.webp"),
            Some(83.3),
        ));
        assert_eq!(
            args,
            ffmpeg_line(&[
                "-ss",
                "8.330",
                "-i",
                "file:/lib/v.mp4",
                "-map",
                "0:V:0",
                "-frames:v",
                "1",
                "-vf",
                "scale=480:-2",
                "-c:v",
                "libwebp",
                "-quality",
                "80",
                "-f",
                "webp",
                "file:/lib/v.webp",
            ])
        );
    }

    #[test]
    fn mp3_and_subtitle_arguments() {
        let mp3 = strings(&mp3_args(
            Path::new("/s/media.mp4"),
            Path::new("/s/media.mp3"),
        ));
        assert_eq!(
            mp3,
            ffmpeg_line(&[
                "-i",
                "file:/s/media.mp4",
                "-map",
                "0:a:0",
                "-vn",
                "-c:a",
                "libmp3lame",
                "-q:a",
                "2",
                "-f",
                "mp3",
                "file:/s/media.mp3",
            ])
        );
        let vtt = strings(&subtitle_to_vtt_args(
            Path::new("/s/-x.srt"),
            Path::new("/s/x.vtt"),
        ));
        assert_eq!(
            vtt,
            ffmpeg_line(&[
                "-i",
                "file:/s/-x.srt",
                "-map",
                "0:s:0",
                "-c:s",
                "webvtt",
                "-f",
                "webvtt",
                "file:/s/x.vtt",
            ])
        );
    }
}
