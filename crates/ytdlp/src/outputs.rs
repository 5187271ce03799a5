//! Names the files yt-dlp leaves in a job's staging directory (all named after
//! [`super::args::MEDIA_STEM`]), so the pipeline can find the video and its companions.

use super::args::MEDIA_STEM;

/// Image extensions yt-dlp may give a thumbnail (webp after conversion, the others if it failed).
const THUMBNAIL_EXTS: &[&str] = &["webp", "jpg", "jpeg", "png"];

/// Subtitle extensions yt-dlp may write (vtt after conversion).
const SUBTITLE_EXTS: &[&str] = &[
    "vtt", "srt", "ass", "lrc", "ttml", "srv1", "srv2", "srv3", "json3",
];

/// What a file in the staging directory is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StagingFile {
    /// The finished video, `media.<ext>`.
    Media {
        /// Its extension (normally `mp4`).
        ext: String,
    },
    /// One format of a download that yt-dlp merges afterwards, `media.f<id>.<ext>`.
    FormatPart,
    /// The site's thumbnail, `media.webp` (or jpg/jpeg/png when conversion failed).
    Thumbnail {
        /// Its extension.
        ext: String,
    },
    /// A subtitle, `media.<lang>.<ext>`.
    Subtitle {
        /// The language tag as yt-dlp wrote it (`en`, `en-US`, `de-orig`).
        lang: String,
        /// Its extension (normally `vtt`).
        ext: String,
    },
    /// yt-dlp's metadata, `media.info.json`.
    InfoJson,
    /// An unfinished download (`.part`, `.ytdl`, fragments, `.temp` files).
    Partial,
    /// Anything else.
    Other,
}

/// Classifies a file name (without directory) found in the staging directory.
pub fn classify_staging_file(name: &str) -> StagingFile {
    let Some(rest) = name
        .strip_prefix(MEDIA_STEM)
        .and_then(|r| r.strip_prefix('.'))
    else {
        return StagingFile::Other;
    };
    let partial = rest.ends_with(".part")
        || rest.ends_with(".ytdl")
        || rest.contains(".part-Frag")
        || rest.starts_with("temp.")
        || rest.contains(".temp.");
    if partial {
        return StagingFile::Partial;
    }
    if rest == "info.json" {
        return StagingFile::InfoJson;
    }
    let parts: Vec<&str> = rest.split('.').collect();
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !parts.iter().all(|p| valid(p)) {
        return StagingFile::Other;
    }
    match parts.as_slice() {
        [ext] if THUMBNAIL_EXTS.contains(ext) => StagingFile::Thumbnail {
            ext: (*ext).to_owned(),
        },
        [ext] if SUBTITLE_EXTS.contains(ext) || *ext == "part" => StagingFile::Other,
        [ext] => StagingFile::Media {
            ext: (*ext).to_owned(),
        },
        [lang, ext] if SUBTITLE_EXTS.contains(ext) => StagingFile::Subtitle {
            lang: (*lang).to_owned(),
            ext: (*ext).to_owned(),
        },
        [format, _] if is_format_id(format) => StagingFile::FormatPart,
        _ => StagingFile::Other,
    }
}

/// Whether a name part is yt-dlp's format marker (`f137`, `f251-drc`, `fhls-720p`).
fn is_format_id(part: &str) -> bool {
    part.starts_with('f')
        && part
            .as_bytes()
            .get(1)
            .is_some_and(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let media = |ext: &str| StagingFile::Media {
            ext: ext.to_owned(),
        };
        let thumb = |ext: &str| StagingFile::Thumbnail {
            ext: ext.to_owned(),
        };
        let sub = |lang: &str, ext: &str| StagingFile::Subtitle {
            lang: lang.to_owned(),
            ext: ext.to_owned(),
        };
        for (name, expected) in [
            ("media.mp4", media("mp4")),
            ("media.webm", media("webm")),
            ("media.mkv", media("mkv")),
            ("media.webp", thumb("webp")),
            ("media.jpg", thumb("jpg")),
            ("media.en.vtt", sub("en", "vtt")),
            ("media.en-US.vtt", sub("en-US", "vtt")),
            ("media.de-orig.srt", sub("de-orig", "srt")),
            ("media.fr.vtt", sub("fr", "vtt")),
            ("media.fi.vtt", sub("fi", "vtt")),
            ("media.live_chat.json", StagingFile::Other),
            ("media.info.json", StagingFile::InfoJson),
            ("media.f137.mp4", StagingFile::FormatPart),
            ("media.f251.webm", StagingFile::FormatPart),
            ("media.fhls-720p.mp4", StagingFile::FormatPart),
            ("media.mp4.part", StagingFile::Partial),
            ("media.f137.mp4.part", StagingFile::Partial),
            ("media.mp4.ytdl", StagingFile::Partial),
            ("media.mp4.part-Frag12", StagingFile::Partial),
            ("media.temp.mp4", StagingFile::Partial),
            ("media.vtt", StagingFile::Other),
            ("media.", StagingFile::Other),
            ("media", StagingFile::Other),
            ("media..mp4", StagingFile::Other),
            ("media.a b.mp4", StagingFile::Other),
            ("other.mp4", StagingFile::Other),
            ("mediamp4", StagingFile::Other),
            ("", StagingFile::Other),
            ("media.x.y.z", StagingFile::Other),
        ] {
            assert_eq!(classify_staging_file(name), expected, "{name}");
        }
    }
}
