//! What a library scan sees in the library folder, without running anything: the entries, how
//! each name is classified (a video, a companion of one, a file still being written, hidden,
//! something else), a video's companions (thumbnail, subtitles, audio, sidecar) and the title a
//! file name gives. `ingest::adopt` decides what to do with them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;
use std::path::Path;
use std::time::SystemTime;

use super::sidecar;

/// Suffixes of files that downloaders, browsers and copy tools are still writing.
pub const PARTIAL_SUFFIXES: &[&str] = &[
    ".part",
    ".partial",
    ".tmp",
    ".temp",
    ".crdownload",
    ".download",
    ".filepart",
    ".!qb",
    ".ytdl",
    ".swp",
];
/// Extensions of subtitles a scan attaches to a video.
pub const SUBTITLE_EXTENSIONS: &[&str] = &["vtt", "srt"];
/// Extensions of audio companions (the original's MP3 beside a video).
pub const AUDIO_EXTENSIONS: &[&str] = &["mp3", "m4a"];

/// How a file name in the library is treated by a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A video file (one of [`super::VIDEO_EXTENSIONS`]).
    Video,
    /// A thumbnail, subtitle, audio file or sidecar: attached to the video of the same stem.
    Companion,
    /// A file a downloader or copy is still writing.
    Partial,
    /// A hidden file (`.name`).
    Hidden,
    /// Anything else: not media, left alone.
    Other,
}

/// Classifies a library file name.
pub fn classify(name: &str) -> Class {
    let lower = name.to_ascii_lowercase();
    if name.starts_with('.') {
        return Class::Hidden;
    }
    if PARTIAL_SUFFIXES.iter().any(|s| lower.ends_with(s)) || lower.contains(".part-frag") {
        return Class::Partial;
    }
    if lower.ends_with(sidecar::SUFFIX) {
        return Class::Companion;
    }
    match super::extension(name).as_deref() {
        Some(ext) if super::VIDEO_EXTENSIONS.contains(&ext) => Class::Video,
        Some(ext)
            if super::THUMBNAIL_EXTENSIONS.contains(&ext)
                || SUBTITLE_EXTENSIONS.contains(&ext)
                || AUDIO_EXTENSIONS.contains(&ext) =>
        {
            Class::Companion
        }
        _ => Class::Other,
    }
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    Other,
}

/// One entry of the library directory.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub kind: EntryType,
}

/// The library directory's entries (names that are not UTF-8 are left out: no route could
/// serve them). Uses the directory's own entry types: no `stat` per file.
pub fn list(library: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(library)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let kind = match entry.file_type() {
            Ok(t) if t.is_file() => EntryType::File,
            Ok(t) if t.is_dir() => EntryType::Dir,
            Ok(t) if t.is_symlink() => EntryType::Symlink,
            _ => EntryType::Other,
        };
        entries.push(Entry { name, kind });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Size and modification time of a file (what tells a scan that a copy is still going on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub modified: SystemTime,
}

impl Stamp {
    /// The stamp of a library file (`lstat`: a symlink is not followed).
    pub fn of(path: &Path) -> io::Result<Stamp> {
        let meta = std::fs::symlink_metadata(path)?;
        Ok(Stamp {
            size: meta.len(),
            modified: meta.modified()?,
        })
    }
}

/// A subtitle file beside a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subtitle {
    pub name: String,
    pub language: String,
    /// WebVTT (the player reads it) rather than SubRip.
    pub vtt: bool,
}

/// The files that belong with a video of a given stem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Companions {
    pub thumbnail: Option<String>,
    pub audio: Option<String>,
    pub sidecar: Option<String>,
    pub subtitles: Vec<Subtitle>,
}

impl Companions {
    /// Every companion file name.
    pub fn names(&self) -> Vec<String> {
        self.thumbnail
            .iter()
            .chain(&self.audio)
            .chain(&self.sidecar)
            .cloned()
            .chain(self.subtitles.iter().map(|s| s.name.clone()))
            .collect()
    }
}

/// Finds the companions of `stem` among `names`: `<stem>.webp|jpg|jpeg|png` (exact case first),
/// `<stem>.mp3|m4a`, `<stem>.info.json`, and subtitles `<stem>.vtt|srt` or
/// `<stem>.<lang>.vtt|srt` (a language is one dot-free segment; `a.b.en.vtt` belongs to `a.b`).
pub fn companions(stem: &str, names: &BTreeSet<String>) -> Companions {
    let find = |exts: &[&str]| -> Option<String> {
        exts.iter().find_map(|ext| {
            let exact = format!("{stem}.{ext}");
            if names.contains(&exact) {
                return Some(exact);
            }
            names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(&exact))
                .cloned()
        })
    };
    let thumbnail = find(&["webp", "jpg", "jpeg", "png"]);
    let audio = find(AUDIO_EXTENSIONS);
    let sidecar = Some(format!("{stem}{}", sidecar::SUFFIX)).filter(|n| names.contains(n));
    let prefix = format!("{stem}.");
    let mut subtitles = Vec::new();
    for name in names.iter().filter(|n| n.starts_with(&prefix)) {
        let rest = &name[prefix.len()..];
        let (middle, vtt) = match super::extension(name).as_deref() {
            Some("vtt") => (&rest[..rest.len() - 3], true),
            Some("srt") => (&rest[..rest.len() - 3], false),
            _ => continue,
        };
        let language = middle.strip_suffix('.').unwrap_or(middle);
        if language.contains('.') || language.len() > 35 {
            continue;
        }
        let language = if language.is_empty() {
            "unknown"
        } else {
            language
        };
        subtitles.push(Subtitle {
            name: name.clone(),
            language: language.to_owned(),
            vtt,
        });
    }
    Companions {
        thumbnail,
        audio,
        sidecar,
        subtitles,
    }
}

/// Which subtitles the player lists (one per language, WebVTT) and which WebVTT files must be
/// made from SubRip ones.
pub struct SubtitlePlan {
    /// Existing files listed as the language's subtitle.
    pub listed: HashSet<String>,
    /// (SubRip file, WebVTT name to make, language).
    pub make: Vec<(String, String, String)>,
}

/// One subtitle per language: its WebVTT file when there is one, else a WebVTT made from its
/// SubRip file (named like it, `.vtt` for `.srt`).
pub fn subtitle_plan(subtitles: &[Subtitle]) -> SubtitlePlan {
    let mut by_language: BTreeMap<&str, Vec<&Subtitle>> = BTreeMap::new();
    for sub in subtitles {
        by_language.entry(&sub.language).or_default().push(sub);
    }
    let mut plan = SubtitlePlan {
        listed: HashSet::new(),
        make: Vec::new(),
    };
    for (language, subs) in by_language {
        if let Some(vtt) = subs.iter().find(|s| s.vtt) {
            plan.listed.insert(vtt.name.clone());
        } else if let Some(srt) = subs.first() {
            let made = format!("{}.vtt", &srt.name[..srt.name.len() - 4]);
            plan.make
                .push((srt.name.clone(), made, language.to_owned()));
        }
    }
    plan
}

/// Converts SubRip text to WebVTT (header, `.` as the millisecond separator).
pub fn srt_to_vtt(srt: &str) -> String {
    let mut out = String::from("WEBVTT\n\n");
    let body = srt.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    for line in body.lines() {
        if line.contains("-->") {
            out.push_str(&line.replace(',', "."));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The title a file name gives, the way the original did it: UUIDs removed, `-`/`_` as spaces,
/// each word capitalised, whitespace collapsed; a trailing `-<video id>` of SOFATHEK's own
/// names (`My_Film-0f8e2c1a`) is dropped.
pub fn title_from_stem(stem: &str) -> String {
    let without_uuids = remove_uuids(stem);
    let without_uuids = strip_video_id(&without_uuids);
    let spaced: String = without_uuids
        .chars()
        .map(|c| if c == '-' || c == '_' { ' ' } else { c })
        .collect();
    let words: Vec<String> = spaced
        .split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect();
    let title = words.join(" ");
    if title.is_empty() {
        "Unknown Title".into()
    } else {
        title
    }
}

/// `title-0f8e2c1a` → `title`: the short ids SOFATHEK appends (8, 12 or 32 lowercase hex digits
/// with both a digit and a letter, so a word like `-deadbeef` or a date like `-20240101` stays).
fn strip_video_id(stem: &str) -> &str {
    if let Some((head, id)) = stem.rsplit_once('-') {
        let hex = id
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !head.is_empty()
            && hex
            && matches!(id.len(), 8 | 12 | 32)
            && id.chars().any(|c| c.is_ascii_digit())
            && id.chars().any(|c| c.is_ascii_alphabetic())
        {
            return head;
        }
    }
    stem
}

fn remove_uuids(text: &str) -> String {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let chars: Vec<char> = text.chars().collect();
    let uuid_at = |start: usize| -> bool {
        let mut i = start;
        for (g, len) in GROUPS.iter().enumerate() {
            for _ in 0..*len {
                if i >= chars.len() || !chars[i].is_ascii_hexdigit() {
                    return false;
                }
                i += 1;
            }
            if g < GROUPS.len() - 1 {
                if chars.get(i) != Some(&'-') {
                    return false;
                }
                i += 1;
            }
        }
        true
    };
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if uuid_at(i) {
            i += 36;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(classify("Film.mkv"), Class::Video);
        assert_eq!(classify("Film.MP4"), Class::Video);
        assert_eq!(classify("Film.en.srt"), Class::Companion);
        assert_eq!(classify("Film.info.json"), Class::Companion);
        assert_eq!(classify("Film.webp"), Class::Companion);
        assert_eq!(classify("Film.mp4.part"), Class::Partial);
        assert_eq!(classify("Film.mp4.crdownload"), Class::Partial);
        assert_eq!(classify("Film.f137.mp4.part-Frag3"), Class::Partial);
        assert_eq!(classify(".Film.mp4"), Class::Hidden);
        assert_eq!(classify("notes.txt"), Class::Other);
        assert_eq!(classify("README"), Class::Other);
    }

    #[test]
    fn companions_by_stem() {
        let names: BTreeSet<String> = [
            "Film.mkv",
            "Film.JPG",
            "Film.en.srt",
            "Film.en.vtt",
            "Film.de.srt",
            "Film.srt",
            "Film.info.json",
            "Film.mp3",
            "Film.Part2.mp4",
            "Film.Part2.fr.vtt",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let found = companions("Film", &names);
        assert_eq!(found.thumbnail.as_deref(), Some("Film.JPG"));
        assert_eq!(found.audio.as_deref(), Some("Film.mp3"));
        assert_eq!(found.sidecar.as_deref(), Some("Film.info.json"));
        let subs: Vec<(&str, &str, bool)> = found
            .subtitles
            .iter()
            .map(|s| (s.name.as_str(), s.language.as_str(), s.vtt))
            .collect();
        assert_eq!(
            subs,
            [
                ("Film.de.srt", "de", false),
                ("Film.en.srt", "en", false),
                ("Film.en.vtt", "en", true),
                ("Film.srt", "unknown", false),
            ]
        );
        let part2 = companions("Film.Part2", &names);
        assert_eq!(part2.subtitles.len(), 1);
        assert_eq!(part2.subtitles[0].language, "fr");
        assert_eq!(part2.thumbnail, None);
    }

    #[test]
    fn srt_becomes_vtt() {
        let srt = "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello, world\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nBye\r\n";
        let vtt = srt_to_vtt(srt);
        assert!(
            vtt.starts_with("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.500\nHello, world\n"),
            "{vtt}"
        );
    }

    #[test]
    fn titles_from_file_names() {
        let check = |stem: &str, title: &str| assert_eq!(title_from_stem(stem), title, "{stem}");
        check(
            "Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "Unknown Title",
        );
        check("My_Video_File", "My Video File");
        check("already spaced  words", "Already Spaced Words");
        check("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "Unknown Title");
        check("ünïcode_title", "Ünïcode Title");
        check("Our_Holiday-0f8e2c1a", "Our Holiday");
        check("Our_Holiday-0f8e2c1a9b3d", "Our Holiday");
        check("Cafe-deadbeef", "Cafe Deadbeef");
        check("Episode-20240101", "Episode 20240101");
    }
}
