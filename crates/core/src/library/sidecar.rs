//! `<stem>.info.json`: the sidecar beside every published video, from which the catalogue can be
//! rebuilt when the database is lost (a start with no database adopts every video with its
//! title, category and added date).
//!
//! Its fields are the original SOFATHEK's (`title`, `uploader`, `channel`, `description`,
//! `tags`, `sourceUrl`, `uploadDate`, `downloadedAt`, `duration`, `width`, `height`,
//! `resolution`, `vcodec`, `acodec`) plus `id`, `category`, `categoryName` and `addedAt`.
//! Rewriting one keeps every field it does not set, so an original sidecar keeps what only the
//! original knew. A sidecar that is not a JSON object is never overwritten.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Layout, StagedFile};
use sofathek_db::videos::{FileKind, VideoRecord};

/// The sidecar's suffix after the video's stem.
pub const SUFFIX: &str = ".info.json";

/// What a sidecar says (original fields and ours); every field is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sidecar {
    pub title: Option<String>,
    pub duration: Option<f64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub resolution: Option<String>,
    pub tbr: Option<f64>,
    pub uploader: Option<String>,
    pub channel: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub source_url: Option<String>,
    pub upload_date: Option<String>,
    pub downloaded_at: Option<String>,
    pub added_at: Option<String>,
    pub vcodec: Option<String>,
    pub acodec: Option<String>,
    pub local_thumbnail: Option<String>,
    pub category: Option<String>,
    pub category_name: Option<String>,
}

impl Sidecar {
    /// The channel: `uploader`, else `channel`, trimmed and non-empty.
    pub fn channel(&self) -> Option<String> {
        [&self.uploader, &self.channel]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// The title, when it is not blank.
    pub fn title(&self) -> Option<String> {
        self.title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }

    /// When the video entered a library: `addedAt`, else the original's `downloadedAt`.
    pub fn added(&self) -> Option<String> {
        self.added_at
            .clone()
            .or_else(|| self.downloaded_at.clone())
            .filter(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .is_ok()
            })
    }
}

/// Reads a sidecar; `None` when it is missing, and (with a warning) when it is not one.
pub fn read(path: &Path) -> Option<Sidecar> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice::<Sidecar>(&bytes) {
        Ok(sidecar) => Some(sidecar),
        Err(err) => {
            tracing::warn!(file = %path.display(), %err, "ignoring a sidecar that cannot be read");
            None
        }
    }
}

/// The sidecar name of a video file: `<stem>.info.json`.
pub fn name_for(video_file: &str) -> String {
    let stem = video_file
        .rsplit_once('.')
        .map_or(video_file, |(stem, _)| stem);
    format!("{stem}{SUFFIX}")
}

/// The JSON object of an existing sidecar, or `None` when it is not an object (or unreadable).
fn existing_object(path: &Path) -> Option<Map<String, Value>> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// The fields of `video` written into a sidecar.
fn fields(video: &VideoRecord, category_name: Option<&str>) -> Map<String, Value> {
    let mut map = Map::new();
    let mut set = |key: &str, value: Value| {
        map.insert(key.to_owned(), value);
    };
    set("id", json!(video.id));
    set("title", json!(video.title));
    set("category", json!(video.category));
    set("categoryName", json!(category_name));
    set("addedAt", json!(video.added_at));
    set("downloadedAt", json!(video.added_at));
    let optional = [
        ("description", video.description.clone().map(Value::from)),
        ("uploader", video.channel.clone().map(Value::from)),
        ("channel", video.channel.clone().map(Value::from)),
        ("sourceUrl", video.source_url.clone().map(Value::from)),
        ("uploadDate", video.upload_date.clone().map(Value::from)),
        ("duration", video.duration.map(Value::from)),
        ("width", video.width.map(Value::from)),
        ("height", video.height.map(Value::from)),
        ("vcodec", video.video_codec.clone().map(Value::from)),
        ("acodec", video.audio_codec.clone().map(Value::from)),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            set(key, value);
        }
    }
    if !video.tags.is_empty() {
        set("tags", json!(video.tags));
    }
    if let (Some(w), Some(h)) = (video.width, video.height) {
        set("resolution", json!(format!("{w}x{h}")));
    }
    map
}

/// Prepares the sidecar of a video being published (or edited), holding the library lock:
///
/// - one the video already has (`files` lists it in place) is merged and replaced atomically;
/// - a `<stem>.info.json` on disk that no video owns (an original sidecar, or one left by a
///   publish that crashed) is merged, replaced and becomes the video's;
/// - otherwise a new one is written in staging, for publish to move in.
///
/// `None` (nothing written) when the name belongs to another video, when an existing file is
/// not a JSON object (it is the family's, not ours to overwrite), or on an I/O error.
pub(super) fn stage(
    layout: &Layout,
    video: &VideoRecord,
    category_name: Option<&str>,
    files: &[StagedFile],
    known: &HashSet<String>,
) -> Option<StagedFile> {
    let video_file = files
        .iter()
        .find(|f| f.kind == FileKind::Video)
        .map_or(video.file_name.as_str(), |f| f.name.as_str());
    let name = files
        .iter()
        .find(|f| f.kind == FileKind::Info)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| name_for(video_file));
    let target = layout.library.join(&name);
    let ours = files.iter().any(|f| f.name == name && f.in_place);
    let exists = std::fs::symlink_metadata(&target).is_ok();
    if exists && !ours && known.contains(&name) {
        return None;
    }
    let mut map = if exists {
        if !std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_file()) {
            return None;
        }
        existing_object(&target)?
    } else if let Some(staged) = files.iter().find(|f| f.name == name && !f.in_place) {
        // A sidecar brought along (import): keep what it says beyond our fields.
        existing_object(&staged.source).unwrap_or_default()
    } else {
        Map::new()
    };
    map.extend(fields(video, category_name));
    let written = (|| -> std::io::Result<tempfile::TempPath> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".sidecar-")
            .suffix(".json")
            .tempfile_in(&*layout.staging)?;
        serde_json::to_writer_pretty(tmp.as_file_mut(), &Value::Object(map))?;
        tmp.as_file_mut().write_all(b"\n")?;
        tmp.as_file().sync_all()?;
        Ok(tmp.into_temp_path())
    })();
    let tmp = match written {
        Ok(tmp) => tmp,
        Err(err) => {
            tracing::warn!(file = %name, %err, "could not write a sidecar");
            return None;
        }
    };
    if exists {
        // Replace atomically: the old content or the new, never half of one.
        if let Err(err) = tmp.persist(&target) {
            tracing::warn!(file = %name, err = %err.error, "could not replace a sidecar");
            return None;
        }
        Some(StagedFile::in_place(layout, &name, FileKind::Info, None))
    } else {
        match tmp.keep() {
            Ok(path) => Some(StagedFile::staged(path, name, FileKind::Info, None)),
            Err(err) => {
                tracing::warn!(file = %name, err = %err.error, "could not keep a sidecar");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            name_for("My_Film-0f8e2c1a.mp4"),
            "My_Film-0f8e2c1a.info.json"
        );
        assert_eq!(name_for("a.b.webm"), "a.b.info.json");
    }

    #[test]
    fn added_dates_must_be_timestamps() {
        let sidecar = Sidecar {
            downloaded_at: Some("2021-04-05T06:07:08.000Z".into()),
            ..Sidecar::default()
        };
        assert_eq!(sidecar.added().as_deref(), Some("2021-04-05T06:07:08.000Z"));
        let bad = Sidecar {
            added_at: Some("yesterday".into()),
            ..Sidecar::default()
        };
        assert_eq!(bad.added(), None);
    }
}
