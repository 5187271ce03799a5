//! What yt-dlp lists for a channel, playlist or feed in flat mode ([`crate::args::listing_args`]):
//! the list's title and, per entry, an id that stays the same across checks, the URL to download,
//! and what is known without visiting the entry (title, duration, publication time, thumbnail).
//!
//! Sites fill different fields. YouTube's flat entries carry `id`, `url` (the watch page),
//! `duration` and `thumbnails`; the generic extractor's RSS entries (`<enclosure>` items) carry
//! no `id` but smuggle the item's `<guid>` into the URL's fragment (`#__youtubedl_smuggle=…`,
//! JSON with `force_videoid`), and `timestamp` (`pubDate`), `duration` (`itunes:duration`) and
//! `thumbnail` (`itunes:image`).

use std::fmt;

use serde_json::Value;
use url::Url;

/// The fragment key under which yt-dlp smuggles data into a URL.
const SMUGGLE_KEY: &str = "__youtubedl_smuggle";

/// A listed channel, playlist or feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// The list's title, if it has one.
    pub title: Option<String>,
    /// Entries in the site's order (usually newest first).
    pub entries: Vec<ListedEntry>,
    /// Entries without a URL that could be downloaded (nested playlists, broken items).
    pub unusable: usize,
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedEntry {
    /// Stable across checks: the site's id, the feed item's guid, else the URL.
    pub id: String,
    /// What to download (http or https, without yt-dlp's smuggled fragment).
    pub url: Url,
    pub title: Option<String>,
    /// Seconds.
    pub duration: Option<f64>,
    /// Publication time, Unix seconds.
    pub published: Option<i64>,
    /// A thumbnail image's URL (http or https).
    pub thumbnail: Option<Url>,
}

/// Why a listing could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingError {
    /// yt-dlp printed something that is not a JSON object.
    NotJson(String),
    /// The URL is a single video, not a list.
    NotAList,
}

impl fmt::Display for ListingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListingError::NotJson(err) => write!(f, "yt-dlp's listing is not JSON: {err}"),
            ListingError::NotAList => f.write_str(
                "this address is a single video, not a channel, playlist or feed (add it on the Add page)",
            ),
        }
    }
}

impl std::error::Error for ListingError {}

/// Reads yt-dlp's `--dump-single-json --flat-playlist` output.
pub fn parse_listing(text: &str) -> Result<Listing, ListingError> {
    let doc: Value =
        serde_json::from_str(text.trim()).map_err(|e| ListingError::NotJson(e.to_string()))?;
    if !doc.is_object() {
        return Err(ListingError::NotJson("not an object".into()));
    }
    let Some(items) = doc.get("entries").and_then(Value::as_array) else {
        return Err(ListingError::NotAList);
    };
    let mut entries = Vec::with_capacity(items.len());
    let mut unusable = 0;
    for item in items {
        match entry(item) {
            Some(e) => entries.push(e),
            None => unusable += 1,
        }
    }
    Ok(Listing {
        title: text_of(&doc, "title"),
        entries,
        unusable,
    })
}

fn text_of(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn web_url(raw: &str) -> Option<Url> {
    Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// One entry, or `None` when it cannot be downloaded on its own.
fn entry(item: &Value) -> Option<ListedEntry> {
    if !item.is_object() {
        return None;
    }
    // A nested list (a channel's tabs, a playlist of playlists) is not a video.
    if matches!(
        item.get("_type").and_then(Value::as_str),
        Some("playlist" | "multi_video")
    ) {
        return None;
    }
    let raw = ["url", "webpage_url", "original_url"]
        .iter()
        .filter_map(|key| item.get(*key).and_then(Value::as_str))
        .find_map(web_url)?;
    let (url, smuggled_id) = unsmuggle(raw);
    let id = text_of(item, "id")
        .or(smuggled_id)
        .unwrap_or_else(|| url.to_string());
    Some(ListedEntry {
        id,
        url,
        title: text_of(item, "title"),
        duration: item
            .get("duration")
            .and_then(Value::as_f64)
            .filter(|d| d.is_finite() && *d >= 0.0),
        published: published(item),
        thumbnail: thumbnail(item),
    })
}

/// The URL without yt-dlp's smuggled fragment, and the id smuggled in it (`force_videoid`).
fn unsmuggle(mut url: Url) -> (Url, Option<String>) {
    let Some(fragment) = url.fragment() else {
        return (url, None);
    };
    let Some(data) = url::form_urlencoded::parse(fragment.as_bytes())
        .find(|(key, _)| key == SMUGGLE_KEY)
        .map(|(_, value)| value.into_owned())
    else {
        return (url, None);
    };
    url.set_fragment(None);
    let id = serde_json::from_str::<Value>(&data)
        .ok()
        .and_then(|v| text_of(&v, "force_videoid"));
    (url, id)
}

/// `timestamp`, else `release_timestamp`, else `upload_date` (`YYYYMMDD`, midnight UTC).
fn published(item: &Value) -> Option<i64> {
    for key in ["timestamp", "release_timestamp"] {
        if let Some(ts) = item
            .get(key)
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite())
        {
            return Some(ts as i64);
        }
    }
    let date = item.get("upload_date").and_then(Value::as_str)?;
    let format = time::macros::format_description!("[year][month][day]");
    let day = time::Date::parse(date, &format).ok()?;
    Some(day.midnight().assume_utc().unix_timestamp())
}

/// `thumbnail`, else the widest of `thumbnails` that is at most 640 pixels wide (else the last).
fn thumbnail(item: &Value) -> Option<Url> {
    if let Some(url) = item
        .get("thumbnail")
        .and_then(Value::as_str)
        .and_then(web_url)
    {
        return Some(url);
    }
    let list = item.get("thumbnails").and_then(Value::as_array)?;
    let candidates: Vec<(u64, Url)> = list
        .iter()
        .filter_map(|t| {
            let url = t.get("url").and_then(Value::as_str).and_then(web_url)?;
            Some((t.get("width").and_then(Value::as_u64).unwrap_or(0), url))
        })
        .collect();
    candidates
        .iter()
        .filter(|(w, _)| (1..=640).contains(w))
        .max_by_key(|(w, _)| *w)
        .or(candidates.last())
        .map(|(_, url)| url.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What yt-dlp 2026.10.26 printed for a local RSS feed (two `<enclosure>` items).
    const RSS: &str = r#"{"_type":"playlist","id":"http://127.0.0.1:8765/feed.xml","title":"Kids Science",
      "entries":[
        {"_type":"url_transparent","url":"http://127.0.0.1:8765/a.mp4?e=2#__youtubedl_smuggle=%7B%22force_videoid%22%3A+%22ep2%22%7D",
         "title":"Episode 2: Magnets","timestamp":1793700000,"duration":2,"thumbnail":"http://127.0.0.1:8765/t2.jpg"},
        {"_type":"url_transparent","url":"http://127.0.0.1:8765/a.mp4?e=1",
         "title":"Episode 1: Water","timestamp":1793613600,"duration":10800,"thumbnail":null}
      ],"extractor":"generic"}"#;

    /// The shape of YouTube's flat channel entries.
    const YOUTUBE: &str = r#"{"_type":"playlist","id":"UC123","title":"Science Kids - Videos",
      "entries":[
        {"_type":"url","ie_key":"Youtube","id":"dQw4w9WgXcQ","url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ",
         "title":"Volcanoes","duration":312.0,"upload_date":"20261101",
         "thumbnails":[{"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg","width":168},
                       {"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hq720.jpg","width":336},
                       {"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/maxres.jpg","width":1280}]},
        {"_type":"playlist","id":"PL1","url":"https://www.youtube.com/playlist?list=PL1","title":"Shorts"},
        {"_type":"url","ie_key":"Youtube","id":"nourl","title":"No URL"}
      ]}"#;

    fn parse(text: &str) -> Listing {
        parse_listing(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn rss_entries_use_the_guid_and_drop_the_smuggled_fragment() {
        let listing = parse(RSS);
        assert_eq!(listing.title.as_deref(), Some("Kids Science"));
        assert_eq!(listing.unusable, 0);
        let [first, second] = listing.entries.as_slice() else {
            panic!("{listing:?}")
        };
        assert_eq!(first.id, "ep2");
        assert_eq!(first.url.as_str(), "http://127.0.0.1:8765/a.mp4?e=2");
        assert_eq!(first.published, Some(1_793_700_000));
        assert_eq!(first.duration, Some(2.0));
        assert_eq!(
            first.thumbnail.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:8765/t2.jpg")
        );
        // Without a guid the URL is the id.
        assert_eq!(second.id, "http://127.0.0.1:8765/a.mp4?e=1");
        assert_eq!(second.thumbnail, None);
    }

    #[test]
    fn youtube_entries_use_the_site_id_date_and_a_small_thumbnail() {
        let listing = parse(YOUTUBE);
        assert_eq!(listing.entries.len(), 1);
        assert_eq!(
            listing.unusable, 2,
            "a nested playlist and an entry without URL"
        );
        let entry = &listing.entries[0];
        assert_eq!(entry.id, "dQw4w9WgXcQ");
        assert_eq!(entry.published, Some(1_793_491_200)); // 2026-11-01T00:00:00Z
        assert_eq!(
            entry.thumbnail.as_ref().map(Url::as_str),
            Some("https://i.ytimg.com/vi/dQw4w9WgXcQ/hq720.jpg")
        );
    }

    #[test]
    fn a_single_video_or_garbage_is_an_error() {
        assert_eq!(
            parse_listing(r#"{"_type":"video","id":"x","title":"One"}"#),
            Err(ListingError::NotAList)
        );
        assert!(matches!(
            parse_listing("WARNING: nothing"),
            Err(ListingError::NotJson(_))
        ));
        assert!(matches!(
            parse_listing("[1]"),
            Err(ListingError::NotJson(_))
        ));
    }

    #[test]
    fn only_web_urls_are_kept() {
        let listing = parse(
            r#"{"entries":[{"url":"file:///etc/passwd","title":"x"},{"url":"ftp://h/x"},
               {"url":"https://example.com/v","thumbnail":"javascript:alert(1)","duration":-3}]}"#,
        );
        assert_eq!(listing.unusable, 2);
        assert_eq!(listing.entries[0].thumbnail, None);
        assert_eq!(listing.entries[0].duration, None);
    }
}
