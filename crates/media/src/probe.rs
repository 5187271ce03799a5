//! ffprobe: the command line, parsing of its JSON into [`MediaInfo`], and the two container facts
//! ffprobe does not report (MP4 `moov` before `mdat`, Matroska DocType), read from the file.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::{Map, Value};

/// Most top-level MP4 boxes walked before giving up.
const MAX_TOP_LEVEL_BOXES: usize = 4096;

/// Largest EBML header read when looking for the Matroska DocType.
const MAX_EBML_HEADER: u64 = 4096;

/// The EBML magic (ID of the EBML header element) that starts every Matroska/WebM file.
const EBML_MAGIC: [u8; 4] = [0x1a, 0x45, 0xdf, 0xa3];

/// Demuxers of still-image files (besides every `*_pipe` demuxer): never a video.
const IMAGE_FORMATS: &[&str] = &["image2", "gif", "apng", "webp", "ico", "bmp"];

/// Codecs that are usually a single still image when they are a video stream.
const STILL_IMAGE_CODECS: &[&str] = &[
    "png", "mjpeg", "bmp", "gif", "webp", "tiff", "jpeg2000", "jpegls", "ppm", "pgm", "pam", "qoi",
    "apng",
];

/// `file:` + `path`: ffmpeg tools then never read the path as an option (leading `-`) or as
/// another protocol (`http:`, `concat:`, a `name:` prefix).
pub fn file_url(path: &Path) -> OsString {
    let mut arg = OsString::from("file:");
    arg.push(path.as_os_str());
    arg
}

/// Arguments for `ffprobe` printing format and streams of `path` as JSON.
pub fn ffprobe_args(path: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-i",
    ]
    .map(OsString::from)
    .into();
    args.push(file_url(path));
    args
}

/// The kind of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// Video (including cover art and still images).
    Video,
    /// Audio.
    Audio,
    /// Subtitles.
    Subtitle,
    /// Data (timecodes, metadata tracks).
    Data,
    /// Attachments (fonts, cover files in Matroska).
    Attachment,
    /// Missing or unknown.
    Other,
}

/// One stream as ffprobe describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    /// The stream's index in the file.
    pub index: Option<u32>,
    /// Video, audio, ...
    pub kind: StreamKind,
    /// ffmpeg's codec name (`h264`, `hevc`, `vp9`, `aac`, `opus`, ...).
    pub codec_name: Option<String>,
    /// Codec profile (`High`, `Main`, `LC`, ...).
    pub profile: Option<String>,
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Pixel format (`yuv420p`, `yuv420p10le`, ...).
    pub pix_fmt: Option<String>,
    /// Number of frames, when the container records it.
    pub nb_frames: Option<u64>,
    /// Duration in seconds, when known.
    pub duration: Option<f64>,
    /// Cover art (`disposition.attached_pic`).
    pub attached_pic: bool,
    /// A still image (`disposition.still_image`, newer ffprobe only).
    pub still_image: bool,
    /// The default stream of its kind.
    pub is_default: bool,
}

impl StreamInfo {
    /// Whether this is a moving-picture video stream: not cover art, and not a single still image.
    pub fn is_real_video(&self) -> bool {
        if self.kind != StreamKind::Video || self.attached_pic || self.still_image {
            return false;
        }
        let still_codec = self
            .codec_name
            .as_deref()
            .is_some_and(|c| STILL_IMAGE_CODECS.contains(&c));
        !still_codec || self.nb_frames.is_some_and(|n| n > 1)
    }

    /// The codec name, or `""` when unknown.
    pub fn codec(&self) -> &str {
        self.codec_name.as_deref().unwrap_or_default()
    }
}

/// What ffprobe says about a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaInfo {
    /// The demuxer's names, comma-separated (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, ...).
    pub format_name: Option<String>,
    /// MP4/MOV major brand (`isom`, `mp42`, `qt  `), from the format tags.
    pub major_brand: Option<String>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// File size in bytes.
    pub size: Option<u64>,
    /// Overall bit rate in bits per second.
    pub bit_rate: Option<u64>,
    /// The streams in file order.
    pub streams: Vec<StreamInfo>,
}

impl MediaInfo {
    /// The demuxer names one by one.
    pub fn format_names(&self) -> impl Iterator<Item = &str> {
        self.format_name
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|n| !n.is_empty())
    }

    /// Whether ffprobe read the file as a still image (PNG, JPEG, GIF, WebP, ...).
    pub fn is_image_format(&self) -> bool {
        self.format_names()
            .any(|n| n.ends_with("_pipe") || IMAGE_FORMATS.contains(&n))
    }

    /// The video stream a player shows: the first moving-picture video stream (ffmpeg's `V`).
    pub fn primary_video(&self) -> Option<&StreamInfo> {
        self.streams.iter().find(|s| s.is_real_video())
    }

    /// The audio stream a player plays: the first audio stream.
    pub fn primary_audio(&self) -> Option<&StreamInfo> {
        self.streams.iter().find(|s| s.kind == StreamKind::Audio)
    }

    /// Whether the file is a video SOFATHEK accepts: not an image file, and at least one
    /// moving-picture video stream. Images (PNG, JPEG, animated GIF), audio-only files (MP3,
    /// even with cover art) and unreadable files are not; refuse them with 415.
    pub fn is_media(&self) -> bool {
        !self.is_image_format() && self.primary_video().is_some()
    }
}

/// Why ffprobe's output could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// The output is not JSON.
    InvalidJson {
        /// The parser's reason.
        reason: String,
    },
    /// The JSON is not an object.
    NotAnObject,
}

impl ProbeError {
    /// A stable code string for logs.
    pub fn code(&self) -> &'static str {
        match self {
            ProbeError::InvalidJson { .. } => "PROBE_INVALID_JSON",
            ProbeError::NotAnObject => "PROBE_NOT_OBJECT",
        }
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::InvalidJson { reason } => {
                write!(f, "ffprobe output is not valid JSON: {reason}")
            }
            ProbeError::NotAnObject => write!(f, "ffprobe output is not a JSON object"),
        }
    }
}

impl std::error::Error for ProbeError {}

/// Parses the JSON printed by [`ffprobe_args`]. Missing sections and fields are tolerated (an
/// unreadable file gives `{}`: no streams, so not media); fields of the wrong type count as
/// missing.
pub fn parse_ffprobe(json: &str) -> Result<MediaInfo, ProbeError> {
    let value: Value = serde_json::from_str(json).map_err(|e| ProbeError::InvalidJson {
        reason: e.to_string(),
    })?;
    let Value::Object(root) = value else {
        return Err(ProbeError::NotAnObject);
    };
    let empty = Map::new();
    let format = root
        .get("format")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let tags = format
        .get("tags")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let streams = match root.get("streams") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_object)
            .map(parse_stream)
            .collect(),
        _ => Vec::new(),
    };
    Ok(MediaInfo {
        format_name: string(format, "format_name"),
        major_brand: string(tags, "major_brand"),
        duration: number(format, "duration").filter(|d| *d >= 0.0),
        size: whole(format, "size"),
        bit_rate: whole(format, "bit_rate"),
        streams,
    })
}

/// One element of `streams`.
fn parse_stream(stream: &Map<String, Value>) -> StreamInfo {
    let empty = Map::new();
    let disposition = stream
        .get("disposition")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let flag = |key: &str| number(disposition, key).is_some_and(|v| v != 0.0);
    let kind = match stream.get("codec_type").and_then(Value::as_str) {
        Some("video") => StreamKind::Video,
        Some("audio") => StreamKind::Audio,
        Some("subtitle") => StreamKind::Subtitle,
        Some("data") => StreamKind::Data,
        Some("attachment") => StreamKind::Attachment,
        _ => StreamKind::Other,
    };
    StreamInfo {
        index: whole(stream, "index").and_then(|i| u32::try_from(i).ok()),
        kind,
        codec_name: string(stream, "codec_name"),
        profile: string(stream, "profile"),
        width: whole(stream, "width")
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| *w > 0),
        height: whole(stream, "height")
            .and_then(|h| u32::try_from(h).ok())
            .filter(|h| *h > 0),
        pix_fmt: string(stream, "pix_fmt"),
        nb_frames: whole(stream, "nb_frames"),
        duration: number(stream, "duration").filter(|d| *d >= 0.0),
        attached_pic: flag("attached_pic"),
        still_image: flag("still_image"),
        is_default: flag("default"),
    }
}

/// A non-empty string field.
fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A finite number field; ffprobe writes many numbers as strings (`"5.000000"`), and `"N/A"`
/// when unknown.
fn number(map: &Map<String, Value>, key: &str) -> Option<f64> {
    let n = match map.get(key)? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A non-negative whole-number field that fits in `u64`.
fn whole(map: &Map<String, Value>, key: &str) -> Option<u64> {
    match map.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
}

/// Facts about the container that ffprobe's JSON does not give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFacts {
    /// MP4/MOV: `moov` comes before `mdat`, so a browser can start playing before the whole
    /// file has arrived. `false` for other containers.
    pub mp4_faststart: bool,
    /// Matroska: the EBML DocType (`webm` or `matroska`); ffprobe names both `matroska,webm`.
    pub matroska_doctype: Option<String>,
}

/// Reads the start of a file to find its [`ContainerFacts`].
pub fn sniff_container<R: Read + Seek>(mut reader: R) -> io::Result<ContainerFacts> {
    reader.seek(SeekFrom::Start(0))?;
    let mut magic = [0u8; 4];
    if read_up_to(&mut reader, &mut magic)? == magic.len() && magic == EBML_MAGIC {
        return Ok(ContainerFacts {
            mp4_faststart: false,
            matroska_doctype: matroska_doctype(reader)?,
        });
    }
    let faststart = match mp4_is_faststart(reader) {
        Ok(faststart) => faststart,
        Err(e) if e.kind() == io::ErrorKind::InvalidData => false,
        Err(e) => return Err(e),
    };
    Ok(ContainerFacts {
        mp4_faststart: faststart,
        matroska_doctype: None,
    })
}

/// Walks the top-level boxes of an MP4/MOV file and reports whether `moov` precedes `mdat`.
///
/// `false` when `mdat` comes first or neither is found; `InvalidData` for a box size that
/// cannot be right.
pub fn mp4_is_faststart<R: Read + Seek>(mut reader: R) -> io::Result<bool> {
    let mut pos = 0u64;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        reader.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 8];
        if read_up_to(&mut reader, &mut header)? < header.len() {
            return Ok(false);
        }
        let [s0, s1, s2, s3, t0, t1, t2, t3] = header;
        match &[t0, t1, t2, t3] {
            b"moov" => return Ok(true),
            b"mdat" => return Ok(false),
            _ => {}
        }
        let (size, header_len) = match u32::from_be_bytes([s0, s1, s2, s3]) {
            0 => return Ok(false), // the box runs to the end of the file
            1 => {
                let mut large = [0u8; 8];
                if read_up_to(&mut reader, &mut large)? < large.len() {
                    return Ok(false);
                }
                (u64::from_be_bytes(large), 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header_len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "mp4 box smaller than its header",
            ));
        }
        pos = pos
            .checked_add(size)
            .filter(|p| i64::try_from(*p).is_ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "mp4 box size too large"))?;
    }
    Ok(false)
}

/// Reads the DocType of a Matroska/WebM file (`webm`, `matroska`); `None` when the file does
/// not start with an EBML header or the header has no DocType.
pub fn matroska_doctype<R: Read + Seek>(mut reader: R) -> io::Result<Option<String>> {
    reader.seek(SeekFrom::Start(0))?;
    let mut start = [0u8; 12];
    let got = read_up_to(&mut reader, &mut start)?;
    let Some(head) = start.get(..got) else {
        return Ok(None);
    };
    let mut pos = 0;
    if read_element_id(head, &mut pos) != Some(u32::from_be_bytes(EBML_MAGIC)) {
        return Ok(None);
    }
    let Some(size) = read_vint_size(head, &mut pos) else {
        return Ok(None);
    };
    let size = size.min(MAX_EBML_HEADER);
    let mut body = Vec::new();
    reader.seek(SeekFrom::Start(pos as u64))?;
    reader.take(size).read_to_end(&mut body)?;
    let mut at = 0;
    while at < body.len() {
        let (Some(id), Some(len)) = (
            read_element_id(&body, &mut at),
            read_vint_size(&body, &mut at),
        ) else {
            return Ok(None);
        };
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| at.checked_add(l))
            .filter(|e| *e <= body.len());
        let Some(end) = end else {
            return Ok(None);
        };
        if id == 0x4282 {
            let value = body.get(at..end).unwrap_or_default();
            let text: String = value
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| char::from(*b))
                .collect();
            return Ok(Some(text));
        }
        at = end;
    }
    Ok(None)
}

/// Reads an EBML element ID (1 to 4 bytes, marker bit kept).
fn read_element_id(buf: &[u8], pos: &mut usize) -> Option<u32> {
    let first = *buf.get(*pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    let bytes = buf.get(*pos..*pos + len)?;
    *pos += len;
    Some(bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

/// Reads an EBML size (1 to 8 bytes, marker bit removed); the "unknown size" value is refused.
fn read_vint_size(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *buf.get(*pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let bytes = buf.get(*pos..*pos + len)?;
    *pos += len;
    let marker_cleared = u64::from(first) & (0xff >> len);
    let value = bytes
        .iter()
        .skip(1)
        .fold(marker_cleared, |acc, b| (acc << 8) | u64::from(*b));
    let all_ones = (1u64 << (7 * len)) - 1;
    (value != all_ones).then_some(value)
}

/// Fills `buf` as far as the reader allows; returns how many bytes were read.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Cursor;

    use super::*;

    /// Real ffprobe 5.1 output for media generated with ffmpeg's testsrc and sine sources.
    pub(crate) const H264_AAC_MP4: &str = include_str!("testdata/ffprobe-h264-mp4.json");
    pub(crate) const H264_AAC_MOV: &str = include_str!("testdata/ffprobe-h264-mov.json");
    pub(crate) const HEVC_AAC_MKV: &str = include_str!("testdata/ffprobe-hevc-mkv.json");
    pub(crate) const VP9_OPUS_WEBM: &str = include_str!("testdata/ffprobe-vp9-webm.json");
    pub(crate) const VP9_OPUS_MKV: &str = include_str!("testdata/ffprobe-vp9-mkv.json");
    pub(crate) const MPEG4_MP3_AVI: &str = include_str!("testdata/ffprobe-mpeg4-avi.json");
    pub(crate) const MJPEG_AVI: &str = include_str!("testdata/ffprobe-mjpeg-avi.json");
    pub(crate) const PNG: &str = include_str!("testdata/ffprobe-image-png.json");
    pub(crate) const JPEG: &str = include_str!("testdata/ffprobe-image-jpg.json");
    pub(crate) const GIF: &str = include_str!("testdata/ffprobe-anim-gif.json");
    pub(crate) const MP3: &str = include_str!("testdata/ffprobe-audio-mp3.json");
    pub(crate) const MP3_WITH_COVER: &str = include_str!("testdata/ffprobe-cover-mp3.json");
    /// What ffprobe prints (exit status 1) for a file it cannot read.
    pub(crate) const UNREADABLE: &str = "{\n\n}\n";

    pub(crate) fn probe(json: &str) -> MediaInfo {
        match parse_ffprobe(json) {
            Ok(info) => info,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn arguments() {
        let args: Vec<String> = ffprobe_args(Path::new("-rf.mp4"))
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                "-i",
                "file:-rf.mp4"
            ]
        );
        assert_eq!(file_url(Path::new("/a/http:b.mkv")), "file:/a/http:b.mkv");
    }

    #[test]
    fn h264_mp4() {
        let info = probe(H264_AAC_MP4);
        assert_eq!(info.format_name.as_deref(), Some("mov,mp4,m4a,3gp,3g2,mj2"));
        assert_eq!(info.major_brand.as_deref(), Some("isom"));
        assert_eq!(
            (info.duration, info.size, info.bit_rate),
            (Some(5.0), Some(80823), Some(129_316))
        );
        assert_eq!(info.streams.len(), 2);
        let video = &info.streams[0];
        assert_eq!(
            (
                video.kind,
                video.codec(),
                video.profile.as_deref(),
                video.pix_fmt.as_deref()
            ),
            (StreamKind::Video, "h264", Some("High"), Some("yuv420p"))
        );
        assert_eq!(
            (video.width, video.height, video.nb_frames, video.index),
            (Some(640), Some(360), Some(125), Some(0))
        );
        assert!(video.is_default && !video.attached_pic);
        let audio = &info.streams[1];
        assert_eq!(
            (audio.kind, audio.codec(), audio.profile.as_deref()),
            (StreamKind::Audio, "aac", Some("LC"))
        );
        assert!(info.is_media());
    }

    #[test]
    fn what_counts_as_media() {
        for (name, json, media, video_codec, audio_codec) in [
            (
                "h264/aac mp4",
                H264_AAC_MP4,
                true,
                Some("h264"),
                Some("aac"),
            ),
            (
                "h264/aac mov",
                H264_AAC_MOV,
                true,
                Some("h264"),
                Some("aac"),
            ),
            (
                "hevc/aac mkv",
                HEVC_AAC_MKV,
                true,
                Some("hevc"),
                Some("aac"),
            ),
            (
                "vp9/opus webm",
                VP9_OPUS_WEBM,
                true,
                Some("vp9"),
                Some("opus"),
            ),
            (
                "vp9/opus mkv",
                VP9_OPUS_MKV,
                true,
                Some("vp9"),
                Some("opus"),
            ),
            (
                "mpeg4/mp3 avi",
                MPEG4_MP3_AVI,
                true,
                Some("mpeg4"),
                Some("mp3"),
            ),
            ("motion jpeg avi", MJPEG_AVI, true, Some("mjpeg"), None),
            ("png", PNG, false, None, None),
            ("jpeg", JPEG, false, None, None),
            ("animated gif", GIF, false, Some("gif"), None),
            ("mp3", MP3, false, None, Some("mp3")),
            ("mp3 with cover", MP3_WITH_COVER, false, None, Some("mp3")),
            ("unreadable", UNREADABLE, false, None, None),
        ] {
            let info = probe(json);
            assert_eq!(info.is_media(), media, "{name}");
            assert_eq!(
                info.primary_video().map(StreamInfo::codec),
                video_codec,
                "{name}"
            );
            assert_eq!(
                info.primary_audio().map(StreamInfo::codec),
                audio_codec,
                "{name}"
            );
        }
    }

    #[test]
    fn tolerant_parsing() {
        let info = probe(
            r#"{"streams": [{"codec_type": "video", "width": "wide", "height": -1, "nb_frames": "N/A",
                 "duration": "N/A", "disposition": {"attached_pic": "1"}}, 7, null],
                "format": {"duration": "N/A", "size": "-5", "bit_rate": 1e99, "tags": []}}"#,
        );
        assert_eq!(info.streams.len(), 1);
        let s = &info.streams[0];
        assert_eq!(
            (
                s.width,
                s.height,
                s.nb_frames,
                s.duration,
                s.codec_name.as_deref()
            ),
            (None, None, None, None, None)
        );
        assert!(s.attached_pic);
        assert_eq!(
            (info.duration, info.size, info.bit_rate),
            (None, None, None)
        );
        assert!(!info.is_media());
        assert_eq!(
            probe(r#"{"streams": {}, "format": 3}"#),
            MediaInfo::default()
        );
    }

    #[test]
    fn errors() {
        for (text, code) in [
            ("", "PROBE_INVALID_JSON"),
            ("garbage", "PROBE_INVALID_JSON"),
            ("[]", "PROBE_NOT_OBJECT"),
            ("1", "PROBE_NOT_OBJECT"),
        ] {
            assert_eq!(
                parse_ffprobe(text).map_err(|e| e.code()),
                Err(code),
                "{text:?}"
            );
        }
    }

    /// An MP4 box of `kind` with `payload` bytes of zeros.
    fn mp4_box(kind: &[u8; 4], payload: usize) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&u32::try_from(8 + payload).unwrap_or(u32::MAX).to_be_bytes());
        b.extend_from_slice(kind);
        b.resize(8 + payload, 0);
        b
    }

    fn faststart(boxes: &[Vec<u8>]) -> io::Result<bool> {
        mp4_is_faststart(Cursor::new(boxes.concat()))
    }

    #[test]
    fn mp4_box_order() {
        let ftyp = mp4_box(b"ftyp", 24);
        let free = mp4_box(b"free", 0);
        let moov = mp4_box(b"moov", 100);
        let mdat = mp4_box(b"mdat", 1000);
        assert!(matches!(
            faststart(&[ftyp.clone(), moov.clone(), mdat.clone()]),
            Ok(true)
        ));
        assert!(matches!(
            faststart(&[ftyp.clone(), free.clone(), mdat.clone(), moov.clone()]),
            Ok(false)
        ));
        assert!(matches!(faststart(std::slice::from_ref(&ftyp)), Ok(false)));
        assert!(matches!(faststart(&[]), Ok(false)));
        // A 64-bit mdat size before moov.
        let mut large = vec![0, 0, 0, 1];
        large.extend_from_slice(b"wide");
        large.extend_from_slice(&24u64.to_be_bytes());
        large.resize(24, 0);
        assert!(matches!(
            faststart(&[ftyp.clone(), large, moov.clone()]),
            Ok(true)
        ));
        // Size 0: the box runs to the end, so nothing follows it.
        let mut to_end = vec![0, 0, 0, 0];
        to_end.extend_from_slice(b"skip");
        assert!(matches!(faststart(&[ftyp.clone(), to_end]), Ok(false)));
        // Broken sizes.
        let mut tiny = vec![0, 0, 0, 4];
        tiny.extend_from_slice(b"junk");
        assert!(faststart(&[ftyp.clone(), tiny]).is_err());
        let mut huge = vec![0, 0, 0, 1];
        huge.extend_from_slice(b"junk");
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(faststart(&[ftyp.clone(), huge, moov]).is_err());
        // A truncated header.
        assert!(matches!(faststart(&[ftyp, vec![0, 0, 1]]), Ok(false)));
        // Box layouts of real files written by ffmpeg 5.1: default, `-movflags +faststart`, MOV.
        let real = |layout: &[(&[u8; 4], usize)]| {
            faststart(
                &layout
                    .iter()
                    .map(|(k, n)| mp4_box(k, n - 8))
                    .collect::<Vec<_>>(),
            )
        };
        assert!(matches!(
            real(&[
                (b"ftyp", 32),
                (b"free", 8),
                (b"mdat", 75206),
                (b"moov", 5577)
            ]),
            Ok(false)
        ));
        assert!(matches!(
            real(&[
                (b"ftyp", 32),
                (b"moov", 5577),
                (b"free", 8),
                (b"mdat", 75206)
            ]),
            Ok(true)
        ));
        assert!(matches!(
            real(&[
                (b"ftyp", 20),
                (b"wide", 8),
                (b"mdat", 75206),
                (b"moov", 5640)
            ]),
            Ok(false)
        ));
    }

    /// An EBML header with the given DocType, followed by a Segment start.
    fn ebml(doctype: &str) -> Vec<u8> {
        let mut body = vec![0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01];
        body.extend_from_slice(&[0x42, 0x82, 0x80 | u8::try_from(doctype.len()).unwrap_or(0)]);
        body.extend_from_slice(doctype.as_bytes());
        body.extend_from_slice(&[0x42, 0x87, 0x81, 0x04]);
        let mut file = EBML_MAGIC.to_vec();
        file.push(0x80 | u8::try_from(body.len()).unwrap_or(0));
        file.extend_from_slice(&body);
        file.extend_from_slice(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ]);
        file
    }

    #[test]
    fn matroska_doctypes() {
        let doctype = |bytes: Vec<u8>| matroska_doctype(Cursor::new(bytes)).ok().flatten();
        assert_eq!(doctype(ebml("webm")).as_deref(), Some("webm"));
        assert_eq!(doctype(ebml("matroska")).as_deref(), Some("matroska"));
        assert_eq!(doctype(mp4_box(b"ftyp", 24)), None);
        assert_eq!(doctype(Vec::new()), None);
        assert_eq!(doctype(EBML_MAGIC.to_vec()), None);
        let mut truncated = ebml("webm");
        truncated.truncate(10);
        assert_eq!(doctype(truncated), None);
        // The first bytes of real files written by ffmpeg 5.1 (`-f webm`, then `-c copy` to .mkv).
        let real_webm = [
            0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42,
            0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm',
            0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02, 0x18, 0x53, 0x80, 0x67, 0x01, 0x00,
            0x00, 0x00, 0x00, 0x00, 0xb5, 0x9a,
        ];
        assert_eq!(doctype(real_webm.to_vec()).as_deref(), Some("webm"));
        let mut real_mkv = vec![
            0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42,
            0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x88,
        ];
        real_mkv.extend_from_slice(b"matroska");
        real_mkv.extend_from_slice(&[
            0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02, 0x18, 0x53, 0x80, 0x67,
        ]);
        assert_eq!(doctype(real_mkv).as_deref(), Some("matroska"));
        let facts = sniff_container(Cursor::new(ebml("webm"))).ok();
        assert_eq!(
            facts,
            Some(ContainerFacts {
                mp4_faststart: false,
                matroska_doctype: Some("webm".to_owned())
            })
        );
        let mp4 = [
            mp4_box(b"ftyp", 24),
            mp4_box(b"moov", 10),
            mp4_box(b"mdat", 10),
        ]
        .concat();
        let facts = sniff_container(Cursor::new(mp4)).ok();
        assert_eq!(
            facts,
            Some(ContainerFacts {
                mp4_faststart: true,
                matroska_doctype: None
            })
        );
        let garbage: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(sniff_container(Cursor::new(garbage)).is_ok());
    }
}
