//! `sofathek import <dir>`: brings a library written by the original SOFATHEK (original §2)
//! into the catalogue: videos with their `.info.json` sidecars, thumbnails, `.srt` subtitles
//! (also converted to WebVTT for the player) and `.mp3`/`.m4a` audio companions.
//!
//! Import is idempotent: a video whose id or files the catalogue already has is skipped.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::db::videos::{self, FileKind, VideoRecord};
use crate::http::AppState;
use crate::library::{self, StagedFile};

/// Import settings.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Move files instead of copying them.
    pub move_files: bool,
    /// Category for every imported video.
    pub category: Option<String>,
}

/// What an import did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub imported: Vec<String>,
    pub skipped: Vec<String>,
    pub failed: Vec<ImportFailure>,
}

/// A video that could not be imported.
#[derive(Debug, Serialize)]
pub struct ImportFailure {
    pub file: String,
    pub error: String,
}

/// Video extensions the original listed (`.ogg` was streamable but not listed).
const LISTED: &[&str] = &["mp4", "webm", "avi", "mkv", "mov", "wmv", "flv", "m4v"];

/// The subset of the original sidecar (`VideoInfoFile`) that the catalogue keeps.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sidecar {
    title: Option<String>,
    duration: Option<f64>,
    width: Option<i64>,
    height: Option<i64>,
    resolution: Option<String>,
    tbr: Option<f64>,
    uploader: Option<String>,
    channel: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    source_url: Option<String>,
    upload_date: Option<String>,
    downloaded_at: Option<String>,
    vcodec: Option<String>,
    acodec: Option<String>,
    local_thumbnail: Option<String>,
}

/// Imports every video of `dir` (top level only; sub-directories are ignored as the original did).
pub async fn import_dir(
    state: &AppState,
    dir: &Path,
    options: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    if let Some(category) = &options.category {
        let slug = category.clone();
        if !state
            .db
            .read(move |c| crate::db::categories::exists(c, &slug))
            .await?
        {
            anyhow::bail!("unknown category '{category}' (see GET /api/categories)");
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    // Byte-wise order, like the original's listing.
    names.sort();
    let known = state.db.read(videos::all_file_names).await?;
    let mut report = ImportReport::default();
    let mut used_ids = HashSet::new();
    for name in &names {
        let Some(ext) = library::extension(name) else {
            continue;
        };
        if !LISTED.contains(&ext.as_str()) {
            continue;
        }
        let stem = &name[..name.len() - ext.len() - 1];
        let mut id = stem.to_owned();
        if !used_ids.insert(id.clone()) {
            // Two files with the same stem: the original gave them the same id; we do not.
            id = format!("{stem}-{ext}");
            used_ids.insert(id.clone());
        }
        let lookup = id.clone();
        if known.contains(name) || state.db.read(move |c| videos::exists(c, &lookup)).await? {
            report.skipped.push(name.clone());
            continue;
        }
        match import_one(state, dir, name, stem, &id, &names, &known, options).await {
            Ok(()) => report.imported.push(name.clone()),
            Err(err) => report.failed.push(ImportFailure {
                file: name.clone(),
                error: err.to_string(),
            }),
        }
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn import_one(
    state: &AppState,
    dir: &Path,
    name: &str,
    stem: &str,
    id: &str,
    all: &[String],
    known: &HashSet<String>,
    options: &ImportOptions,
) -> anyhow::Result<()> {
    let sidecar: Option<Sidecar> = std::fs::read(dir.join(format!("{stem}.info.json")))
        .ok()
        .and_then(|bytes| match serde_json::from_slice(&bytes) {
            Ok(s) => Some(s),
            Err(err) => {
                tracing::warn!(file = %name, %err, "ignoring a corrupt sidecar");
                None
            }
        });
    let sidecar = sidecar.unwrap_or_default();

    // Companions, found by stem as the original did.
    let mut companions: Vec<(String, FileKind, Option<String>)> = Vec::new();
    let thumbnail = ["webp", "jpg", "jpeg", "png"]
        .iter()
        .find_map(|ext| {
            let exact = format!("{stem}.{ext}");
            all.iter()
                .find(|n| **n == exact)
                .or_else(|| all.iter().find(|n| n.eq_ignore_ascii_case(&exact)))
        })
        .cloned()
        .or_else(|| {
            sidecar
                .local_thumbnail
                .as_ref()
                .filter(|t| {
                    all.contains(t)
                        && library::check_name(t, &[library::THUMBNAIL_EXTENSIONS]).is_ok()
                })
                .cloned()
        });
    if let Some(thumb) = thumbnail {
        companions.push((thumb, FileKind::Thumbnail, None));
    }
    if let Some(audio) = ["mp3", "m4a"]
        .iter()
        .map(|ext| format!("{stem}.{ext}"))
        .find(|n| all.contains(n))
    {
        companions.push((audio, FileKind::Audio, None));
    }
    let prefix = format!("{stem}.");
    let mut subtitles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for other in all.iter().filter(|n| n.starts_with(&prefix)) {
        let rest = &other[prefix.len()..];
        if let Some(lang_part) = rest
            .strip_suffix(".srt")
            .or_else(|| rest.strip_suffix(".vtt"))
        {
            let language = lang_part
                .split('.')
                .next()
                .filter(|l| !l.is_empty())
                .unwrap_or("unknown");
            subtitles
                .entry(language.to_owned())
                .or_default()
                .push(other.clone());
        }
    }
    for files in subtitles.values() {
        for file in files {
            let language = file[prefix.len()..].split('.').next().map(str::to_owned);
            let language = language.filter(|l| !l.ends_with("srt") && !l.ends_with("vtt"));
            companions.push((
                file.clone(),
                FileKind::Subtitle,
                language.or(Some("unknown".into())),
            ));
        }
    }
    if companions.iter().any(|(n, _, _)| known.contains(n)) {
        anyhow::bail!("a companion file is already in the library");
    }

    // Stage copies (or moves) in a private directory, then publish atomically.
    let staging = state
        .layout
        .staging
        .join(format!("import-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&staging)?;
    let result = async {
        let mut staged = Vec::new();
        let mut take =
            |file: &str, kind: FileKind, language: Option<String>| -> anyhow::Result<PathBuf> {
                let target = staging.join(file);
                let source = dir.join(file);
                if options.move_files {
                    library::move_file(&source, &target)?;
                } else {
                    std::fs::copy(&source, &target)?;
                }
                staged.push(StagedFile {
                    source: target.clone(),
                    name: file.to_owned(),
                    kind,
                    language,
                });
                Ok(target)
            };
        take(name, FileKind::Video, None)?;
        let mut vtt_made = Vec::new();
        for (file, kind, language) in &companions {
            let staged_path = take(file, *kind, language.clone())?;
            if *kind == FileKind::Subtitle && file.ends_with(".srt") {
                let vtt_name = format!("{}.vtt", &file[..file.len() - 4]);
                if !all.contains(&vtt_name) && !known.contains(&vtt_name) {
                    let text = String::from_utf8_lossy(&std::fs::read(&staged_path)?).into_owned();
                    let vtt_path = staging.join(&vtt_name);
                    std::fs::write(&vtt_path, srt_to_vtt(&text))?;
                    vtt_made.push(StagedFile {
                        source: vtt_path,
                        name: vtt_name,
                        kind: FileKind::Subtitle,
                        language: language.clone(),
                    });
                }
            }
        }
        staged.extend(vtt_made);
        let meta =
            std::fs::metadata(dir.join(name)).or_else(|_| std::fs::metadata(staging.join(name)))?;
        let modified = meta
            .modified()
            .map(|t| crate::db::format_time(t.into()))
            .unwrap_or_else(|_| crate::db::now());
        let ext = library::extension(name).unwrap_or_default();
        let channel = sidecar
            .uploader
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .or_else(|| {
                sidecar
                    .channel
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            })
            .map(str::to_owned);
        let record = VideoRecord {
            id: id.to_owned(),
            title: sidecar
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| title_from_file_name(stem)),
            category: options.category.clone(),
            channel,
            description: sidecar.description.clone(),
            tags: sidecar.tags.clone().unwrap_or_default(),
            duration: sidecar.duration,
            width: sidecar.width,
            height: sidecar.height,
            video_codec: sidecar.vcodec.clone(),
            audio_codec: sidecar.acodec.clone(),
            bitrate: sidecar.tbr.map(|t| t.round() as i64),
            format: sidecar
                .resolution
                .clone()
                .or_else(|| Some(ext.to_ascii_uppercase())),
            file_name: name.to_owned(),
            size: meta.len(),
            modified_at: modified.clone(),
            added_at: sidecar.downloaded_at.clone().unwrap_or(modified),
            upload_date: sidecar.upload_date.clone(),
            source_url: sidecar.source_url.clone().filter(|s| !s.is_empty()),
            view_count: 0,
            files: Vec::new(),
        };
        library::publish(&state.db, &state.layout, record, staged).await?;
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&staging);
    result
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

/// The original's title for a file without a sidecar: UUIDs removed, `-`/`_` as spaces,
/// each word capitalised, whitespace collapsed.
pub fn title_from_file_name(stem: &str) -> String {
    let without_uuids = remove_uuids(stem);
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
    fn titles_from_file_names() {
        let check =
            |stem: &str, title: &str| assert_eq!(title_from_file_name(stem), title, "{stem}");
        check(
            "Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "Unknown Title",
        );
        check("My_Video_File", "My Video File");
        check("already spaced  words", "Already Spaced Words");
        check("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "Unknown Title");
        check("ünïcode_title", "Ünïcode Title");
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
}
