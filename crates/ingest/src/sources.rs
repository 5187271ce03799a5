//! Sources: channels, playlists and feeds a parent follows (issue 16). New entries arrive by
//! themselves — as ordinary URL jobs (approval `auto`) or in a "to approve" list (`review`).
//!
//! ```text
//! scheduler ──(due, or "check now")──> check: yt-dlp --flat-playlist through the egress guard
//!   └─> decide each unseen entry: skipped (start point, filters, too long) | taken | left for later
//!        └─> one transaction: entries recorded (+ URL jobs for `auto`), the check's outcome,
//!            the next check (interval, or back-off after a failure)
//! ```
//!
//! - Every entry a check takes in or skips is remembered per source (`source_entries`), so
//!   nothing is fetched twice: not after a restart, not after its video was deleted. Entries over
//!   the per-check maximum are not recorded, so the next check takes them (oldest first).
//! - The start point applies at the first check (the latest N, or entries published from a day
//!   on; entries without a date count as old then); a date start point also skips later
//!   entries whose known date is before it. At later checks every unseen entry is new.
//! - A failed check keeps the source's last error and is retried after 1 h, 2 h, 4 h … (at most
//!   7 days); one source's failures never delay another's checks beyond its own run time.
//! - Jobs of sources go through the same queue, workers, URL and content policy, limits,
//!   progress, cancel and retry as URLs added by hand; the per-check maximum is a source's rate
//!   limit.
//! - Thumbnails of entries waiting for approval are fetched once through the egress guard by
//!   ffmpeg (re-encoded to a small JPEG in `cache/sources/`), so the browser never loads an image
//!   from another site.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Notify;
use url::Url;

use sofathek_codes::Code;
use sofathek_core::events::Event;
use sofathek_core::urlpolicy::UrlPolicyError;
use sofathek_db::jobs::{self, JobKind, JobRecord, NewJob};
use sofathek_db::sources::{
    self, Approval, CheckError, Checked, EntryRecord, EntryState, NewEntry, Settings, SourceRecord,
};
use sofathek_db::{DbError, format_time};
use sofathek_process::{self as process, Spec, Tool};
use sofathek_ytdlp::args;
use sofathek_ytdlp::errors::classify;
use sofathek_ytdlp::listing::{ListedEntry, Listing, ListingError, parse_listing};

use super::error::{Failure, IngestError};
use super::{Ingest, Inner, url_source};

/// Check interval bounds and default, in hours.
pub const MIN_INTERVAL_HOURS: u32 = 1;
pub const MAX_INTERVAL_HOURS: u32 = 720;
pub const DEFAULT_INTERVAL_HOURS: u32 = 24;
/// "The latest N" at the first check: default and bound (also the listing window).
pub const DEFAULT_START_LATEST: u32 = 3;
pub const MAX_START_LATEST: u32 = 200;
/// New entries one check takes in: default and bound.
pub const DEFAULT_MAX_PER_CHECK: u32 = 5;
pub const MAX_PER_CHECK: u32 = 50;
/// Longest maximum duration, in minutes.
pub const MAX_DURATION_MINUTES: u32 = 1440;
/// Longest include/exclude word list, in characters.
pub const MAX_WORDS_CHARS: usize = 500;
/// Longest source name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most entries one approve/reject request may name.
pub const MAX_BULK: usize = 500;

/// Entries a check lists (newest first on most sites); older ones are not seen.
const LIST_WINDOW: u32 = MAX_START_LATEST;
/// Longest listing run.
const LIST_TIMEOUT: Duration = Duration::from_secs(120);
/// Bytes a listing may fetch through the egress guard.
const LIST_ALLOWANCE: u64 = 64 << 20;
/// First retry after a failed check, doubled per further failure, and the longest wait.
const BACKOFF_FIRST: Duration = Duration::from_secs(3600);
const BACKOFF_MAX: Duration = Duration::from_secs(7 * 24 * 3600);
/// Longest sleep of the scheduler between looks at the schedule.
const IDLE: Duration = Duration::from_secs(3600);
/// Longest thumbnail fetch; largest thumbnail kept.
const THUMBNAIL_TIMEOUT: Duration = Duration::from_secs(20);
const THUMBNAIL_WIDTH: u32 = 320;

/// A field of a source request: absent (unchanged), `null` (cleared) or a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Field::Null, Field::Value))
    }
}

impl<T> Field<T> {
    fn is_set(&self) -> bool {
        matches!(self, Field::Value(_))
    }
}

/// What a parent sends to add a source (`url` required) or change one (`url` not allowed).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceRequest {
    #[serde(default)]
    pub url: Field<String>,
    #[serde(default)]
    pub name: Field<String>,
    #[serde(default)]
    pub category: Field<String>,
    #[serde(default)]
    pub interval_hours: Field<u32>,
    #[serde(default)]
    pub start_after: Field<String>,
    #[serde(default)]
    pub start_latest: Field<u32>,
    #[serde(default)]
    pub max_per_check: Field<u32>,
    #[serde(default)]
    pub include: Field<String>,
    #[serde(default)]
    pub exclude: Field<String>,
    #[serde(default)]
    pub max_duration_minutes: Field<u32>,
    #[serde(default)]
    pub approval: Field<String>,
    #[serde(default)]
    pub audio: Field<bool>,
    #[serde(default)]
    pub enabled: Field<bool>,
}

/// The scheduler's shared state.
#[derive(Default)]
pub(crate) struct Scheduler {
    wake: Notify,
    /// Sources asked to be checked now (also paused ones), in order.
    asked: Mutex<VecDeque<String>>,
    /// Sources being checked or asked for.
    checking: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn invalid(why: impl Into<String>) -> IngestError {
    IngestError::InvalidSource(why.into())
}

fn in_range(name: &str, value: u32, min: u32, max: u32) -> Result<u32, IngestError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(format!("{name} must be from {min} to {max}")))
    }
}

/// A comma-separated word list, tidied (`" Magnet ,, water"` → `"Magnet, water"`).
fn words(name: &str, raw: &str) -> Result<String, IngestError> {
    if raw.chars().count() > MAX_WORDS_CHARS {
        return Err(invalid(format!(
            "{name} must be at most {MAX_WORDS_CHARS} characters"
        )));
    }
    if raw.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{name} must not contain control characters"
        )));
    }
    Ok(raw
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(", "))
}

fn date(raw: &str) -> Result<time::Date, IngestError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &format)
        .map_err(|_| invalid("startAfter must be a date written YYYY-MM-DD"))
}

/// The settings `request` makes of `base` (a new source's defaults, or a source's current
/// settings); the category is checked by the caller.
fn apply(mut s: Settings, r: &SourceRequest, creating: bool) -> Result<Settings, IngestError> {
    match &r.name {
        Field::Absent => {}
        Field::Null => s.name = None,
        Field::Value(raw) => {
            let name = raw.trim();
            if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "name must be at most {MAX_NAME_CHARS} characters, without control characters"
                )));
            }
            s.name = (!name.is_empty()).then(|| name.to_owned());
        }
    }
    match &r.category {
        Field::Absent => {}
        Field::Null => s.category = None,
        Field::Value(slug) => {
            let slug = slug.trim();
            s.category = (!slug.is_empty()).then(|| slug.to_owned());
        }
    }
    match r.interval_hours {
        Field::Absent => {}
        Field::Null => s.interval_secs = DEFAULT_INTERVAL_HOURS * 3600,
        Field::Value(h) => {
            s.interval_secs =
                in_range("intervalHours", h, MIN_INTERVAL_HOURS, MAX_INTERVAL_HOURS)? * 3600;
        }
    }
    if r.start_after.is_set() && r.start_latest.is_set() {
        return Err(invalid(
            "give one start point: startAfter (a date) or startLatest (a number), not both",
        ));
    }
    match &r.start_after {
        Field::Absent => {}
        Field::Null => s.start_after = None,
        Field::Value(raw) => {
            s.start_after = Some(date(raw)?.to_string());
            s.start_latest = None;
        }
    }
    match r.start_latest {
        Field::Absent => {}
        Field::Null => s.start_latest = None,
        Field::Value(n) => {
            s.start_latest = Some(in_range("startLatest", n, 1, MAX_START_LATEST)?);
            s.start_after = None;
        }
    }
    match r.max_per_check {
        Field::Absent => {}
        Field::Null => s.max_per_check = DEFAULT_MAX_PER_CHECK,
        Field::Value(n) => s.max_per_check = in_range("maxPerCheck", n, 1, MAX_PER_CHECK)?,
    }
    for (name, field, slot) in [
        ("include", &r.include, &mut s.include),
        ("exclude", &r.exclude, &mut s.exclude),
    ] {
        match field {
            Field::Absent => {}
            Field::Null => slot.clear(),
            Field::Value(raw) => *slot = words(name, raw)?,
        }
    }
    match r.max_duration_minutes {
        Field::Absent => {}
        Field::Null => s.max_duration_secs = None,
        Field::Value(m) => {
            s.max_duration_secs =
                Some(in_range("maxDurationMinutes", m, 1, MAX_DURATION_MINUTES)? * 60);
        }
    }
    match &r.approval {
        Field::Absent => {}
        Field::Null => s.approval = Approval::Review,
        Field::Value(raw) => {
            s.approval = Approval::parse(raw)
                .ok_or_else(|| invalid("approval must be \"review\" or \"auto\""))?;
        }
    }
    for (field, slot) in [(&r.audio, &mut s.audio), (&r.enabled, &mut s.enabled)] {
        match field {
            Field::Absent => {}
            Field::Null => {}
            Field::Value(v) => *slot = *v,
        }
    }
    if matches!(r.audio, Field::Null) || matches!(r.enabled, Field::Null) {
        return Err(invalid("audio and enabled must be true or false"));
    }
    if creating && s.start_after.is_none() && s.start_latest.is_none() {
        s.start_latest = Some(DEFAULT_START_LATEST);
    }
    Ok(s)
}

/// A new source's settings before the request applies.
fn defaults() -> Settings {
    Settings {
        name: None,
        category: None,
        interval_secs: DEFAULT_INTERVAL_HOURS * 3600,
        start_after: None,
        start_latest: None,
        max_per_check: DEFAULT_MAX_PER_CHECK,
        include: String::new(),
        exclude: String::new(),
        max_duration_secs: None,
        approval: Approval::Review,
        audio: false,
        enabled: true,
    }
}

fn parse_time(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value, &Rfc3339).ok()
}

fn after(from: OffsetDateTime, wait: Duration) -> String {
    format_time(from + wait)
}

/// The wait before retrying after the `failures`-th consecutive failed check.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    BACKOFF_FIRST
        .saturating_mul(1 << doublings)
        .min(BACKOFF_MAX)
}

/// Whether a title passes the include and exclude word lists (case-insensitive).
pub fn title_passes(title: &str, include: &str, exclude: &str) -> bool {
    let title = title.to_lowercase();
    let list = |words: &str| -> Vec<String> {
        words
            .split(',')
            .map(|w| w.trim().to_lowercase())
            .filter(|w| !w.is_empty())
            .collect()
    };
    let include = list(include);
    let exclude = list(exclude);
    (include.is_empty() || include.iter().any(|w| title.contains(w.as_str())))
        && !exclude.iter().any(|w| title.contains(w.as_str()))
}

/// What a check does with the unseen entries of a listing.
#[derive(Debug, Default, PartialEq)]
pub struct Decision<'a> {
    /// Not taken, with the reason (remembered, never fetched).
    pub skipped: Vec<(&'a ListedEntry, &'static str)>,
    /// Taken in this check, oldest first.
    pub taken: Vec<&'a ListedEntry>,
    /// New and eligible but over the per-check maximum: left for the next check.
    pub later: usize,
}

/// Decides what a check takes in (pure: the rules of the module's documentation).
pub fn decide<'a>(
    listing: &'a Listing,
    seen: &HashSet<String>,
    settings: &Settings,
    first_check: bool,
) -> Decision<'a> {
    let mut order: Vec<&ListedEntry> = Vec::with_capacity(listing.entries.len());
    let mut ids = HashSet::new();
    for entry in &listing.entries {
        if ids.insert(entry.id.as_str()) {
            order.push(entry);
        }
    }
    // Newest first when every entry is dated (a playlist may list oldest first).
    if order.iter().all(|e| e.published.is_some()) {
        order.sort_by_key(|e| std::cmp::Reverse(e.published));
    }
    let start_after = settings
        .start_after
        .as_deref()
        .and_then(|d| date(d).ok())
        .map(|d| d.midnight().assume_utc().unix_timestamp());
    let mut decision = Decision::default();
    let mut eligible = Vec::new();
    for (index, entry) in order.into_iter().enumerate() {
        if seen.contains(&entry.id) {
            continue;
        }
        let before_start = match (start_after, entry.published) {
            (Some(from), Some(published)) => published < from,
            (Some(_), None) => first_check,
            (None, _) => first_check && settings.start_latest.is_some_and(|n| index >= n as usize),
        };
        let reason = if before_start {
            Some("before the start point")
        } else if !title_passes(
            entry.title.as_deref().unwrap_or_default(),
            &settings.include,
            &settings.exclude,
        ) {
            Some("filtered by title")
        } else if settings
            .max_duration_secs
            .zip(entry.duration)
            .is_some_and(|(max, d)| d > f64::from(max))
        {
            Some("longer than the maximum duration")
        } else {
            None
        };
        match reason {
            Some(reason) => decision.skipped.push((entry, reason)),
            None => eligible.push(entry),
        }
    }
    eligible.reverse();
    let max = settings.max_per_check as usize;
    decision.later = eligible.len().saturating_sub(max);
    eligible.truncate(max);
    decision.taken = eligible;
    decision
}

fn published_at(entry: &ListedEntry) -> Option<String> {
    entry
        .published
        .and_then(|ts| OffsetDateTime::from_unix_timestamp(ts).ok())
        .map(format_time)
}

/// A title for the job: the entry's, cut to the title limit.
fn job_title(title: Option<&str>) -> Option<String> {
    let title = title.map(str::trim).filter(|t| !t.is_empty())?;
    Some(title.chars().take(super::MAX_TITLE_CHARS).collect())
}

fn new_job(source: &SourceRecord, url: &str, title: Option<&str>) -> NewJob {
    NewJob {
        id: uuid::Uuid::new_v4().to_string(),
        kind: JobKind::Url,
        url: Some(url.to_owned()),
        title: job_title(title),
        category: source.settings.category.clone(),
        audio: source.settings.audio,
        source_name: None,
        source_file: None,
        metadata: None,
        request_id: uuid::Uuid::new_v4().to_string(),
        source_id: Some(source.id.clone()),
    }
}

impl Ingest {
    /// Every source.
    pub async fn sources(&self) -> Result<Vec<SourceRecord>, IngestError> {
        Ok(self.inner.db.read(sources::list).await?)
    }

    /// One source.
    pub async fn source(&self, id: &str) -> Result<SourceRecord, IngestError> {
        let id = id.to_owned();
        self.inner
            .db
            .read(move |c| sources::get(c, &id))
            .await
            .map_err(not_found)
    }

    /// Whether a check of the source runs or was asked for.
    pub fn is_checking(&self, id: &str) -> bool {
        lock(&self.inner.scheduler.checking).contains(id)
    }

    /// Follows a new source (URL policy, settings, category); its first check is due now.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn add_source(&self, request: SourceRequest) -> Result<SourceRecord, IngestError> {
        let raw = match &request.url {
            Field::Value(url) => url.trim().to_owned(),
            Field::Absent | Field::Null => String::new(),
        };
        if raw.is_empty() {
            return Err(IngestError::InvalidSourceUrl(UrlPolicyError::Empty));
        }
        let url = sofathek_core::urlpolicy::check(&raw, self.inner.egress.rules())
            .await
            .map_err(IngestError::InvalidSourceUrl)?;
        let mut settings = apply(defaults(), &request, true)?;
        settings.category = self.check_category(settings.category.as_deref()).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let url = url.to_string();
        let stored = url.clone();
        let record = self
            .inner
            .db
            .write(move |tx| {
                if let Some(existing) = sources::list(tx)?.into_iter().find(|s| s.url == stored) {
                    return Ok(Err(existing.id));
                }
                sources::insert(tx, &id, &stored, &settings, &sofathek_db::now()).map(Ok)
            })
            .await?
            .map_err(IngestError::SourceExists)?;
        tracing::info!(source = %record.id, %url, "following a source");
        self.inner.emit_source(&record);
        self.inner.scheduler.wake.notify_one();
        Ok(record)
    }

    /// Changes a source's settings (not its URL). Changing the interval or resuming a paused
    /// source moves its next check to the last check plus the interval (now, if that has passed).
    #[tracing::instrument(skip_all, fields(source = %id), err(level = "info"))]
    pub async fn update_source(
        &self,
        id: &str,
        request: SourceRequest,
    ) -> Result<SourceRecord, IngestError> {
        if !matches!(request.url, Field::Absent) {
            return Err(invalid(
                "the URL of a source cannot change: add the new address as another source",
            ));
        }
        let current = self.source(id).await?;
        let mut settings = apply(current.settings.clone(), &request, false)?;
        if settings.category != current.settings.category {
            settings.category = self.check_category(settings.category.as_deref()).await?;
        }
        let mut next = current.next_check_at.clone();
        let rescheduled = settings.interval_secs != current.settings.interval_secs
            || (settings.enabled && !current.settings.enabled);
        if rescheduled && current.failures == 0 {
            let now = OffsetDateTime::now_utc();
            let due = current
                .last_check_at
                .as_deref()
                .and_then(parse_time)
                .map(|last| last + Duration::from_secs(u64::from(settings.interval_secs)))
                .map_or(now, |due| due.max(now));
            next = format_time(due);
        }
        let lookup = id.to_owned();
        let record = self
            .inner
            .db
            .write(move |tx| sources::update(tx, &lookup, &settings, &next))
            .await
            .map_err(not_found)?;
        self.inner.emit_source(&record);
        self.inner.scheduler.wake.notify_one();
        Ok(record)
    }

    /// Stops following a source: its seen entries are forgotten; its jobs and videos stay.
    #[tracing::instrument(skip_all, fields(source = %id), err(level = "info"))]
    pub async fn delete_source(&self, id: &str) -> Result<(), IngestError> {
        let lookup = id.to_owned();
        let pending = self
            .inner
            .db
            .write(move |tx| {
                let pending = sources::entries(tx, EntryState::Pending, Some(&lookup))?;
                sources::delete(tx, &lookup)?;
                Ok(pending)
            })
            .await
            .map_err(not_found)?;
        for entry in pending {
            self.inner.forget_thumbnail(entry.id).await;
        }
        tracing::info!("source deleted");
        Ok(())
    }

    /// Asks for a check of the source as soon as the scheduler is free (also when paused).
    pub async fn check_source_now(&self, id: &str) -> Result<SourceRecord, IngestError> {
        let record = self.source(id).await?;
        let scheduler = &self.inner.scheduler;
        if lock(&scheduler.checking).insert(record.id.clone()) {
            lock(&scheduler.asked).push_back(record.id.clone());
        }
        scheduler.wake.notify_one();
        Ok(record)
    }

    /// Entries waiting for approval (of one source, if given), oldest first.
    pub async fn pending_entries(
        &self,
        source: Option<&str>,
    ) -> Result<Vec<EntryRecord>, IngestError> {
        let source = source.map(str::to_owned);
        Ok(self
            .inner
            .db
            .read(move |c| sources::entries(c, EntryState::Pending, source.as_deref()))
            .await?)
    }

    /// The cached thumbnail of a pending entry, if one was fetched.
    pub fn entry_thumbnail(&self, id: i64) -> Option<PathBuf> {
        let path = self.inner.thumbnail_path(id);
        path.is_file().then_some(path)
    }

    /// Approves pending entries: each becomes a URL job, all or none (`EntryNotFound` names
    /// the first id that is not pending; the disk guard applies).
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn approve(&self, ids: &[i64]) -> Result<Vec<JobRecord>, IngestError> {
        let ids = bulk(ids)?;
        self.check_disk()?;
        let made = self
            .inner
            .db
            .write(move |tx| {
                // Every id is checked before anything is written: all or nothing.
                let mut entries = Vec::with_capacity(ids.len());
                for id in ids {
                    match sources::entry(tx, id) {
                        Ok(e) if e.state == EntryState::Pending => entries.push(e),
                        Ok(_) | Err(DbError::NotFound) => return Ok(Err(id)),
                        Err(err) => return Err(err),
                    }
                }
                let mut made = Vec::with_capacity(entries.len());
                for entry in entries {
                    let source = sources::get(tx, &entry.source_id)?;
                    let new = new_job(&source, &entry.url, entry.title.as_deref());
                    let job = jobs::insert(tx, &new)?;
                    sources::decide(tx, entry.id, EntryState::Queued, Some(&job.id))?;
                    made.push((entry.id, job));
                }
                Ok(Ok(made))
            })
            .await?
            .map_err(IngestError::EntryNotFound)?;
        let mut jobs = Vec::with_capacity(made.len());
        for (id, job) in made {
            self.inner.forget_thumbnail(id).await;
            self.inner.emit(&job);
            jobs.push(job);
        }
        self.inner.wake(JobKind::Url);
        tracing::info!(approved = jobs.len(), "entries approved");
        Ok(jobs)
    }

    /// Rejects pending entries, all or none; they are remembered and never offered again.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn reject(&self, ids: &[i64]) -> Result<usize, IngestError> {
        let ids = bulk(ids)?;
        let decided = ids.clone();
        self.inner
            .db
            .write(move |tx| {
                // Every id is checked before anything is written: all or nothing.
                for id in &decided {
                    match sources::entry(tx, *id) {
                        Ok(e) if e.state == EntryState::Pending => {}
                        Ok(_) | Err(DbError::NotFound) => return Ok(Err(*id)),
                        Err(err) => return Err(err),
                    }
                }
                for id in decided {
                    sources::decide(tx, id, EntryState::Rejected, None)?;
                }
                Ok(Ok(()))
            })
            .await?
            .map_err(IngestError::EntryNotFound)?;
        for id in &ids {
            self.inner.forget_thumbnail(*id).await;
        }
        tracing::info!(rejected = ids.len(), "entries rejected");
        Ok(ids.len())
    }
}

/// The ids of a bulk request: at least one, at most [`MAX_BULK`], duplicates dropped.
fn bulk(ids: &[i64]) -> Result<Vec<i64>, IngestError> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(invalid(format!("ids must list 1 to {MAX_BULK} entries")));
    }
    let mut seen = HashSet::new();
    Ok(ids.iter().copied().filter(|id| seen.insert(*id)).collect())
}

fn not_found(err: DbError) -> IngestError {
    match err {
        DbError::NotFound => IngestError::SourceNotFound,
        other => IngestError::Db(other),
    }
}

impl Inner {
    /// Announces a source on the event bus.
    pub(crate) fn emit_source(&self, source: &SourceRecord) {
        self.events.publish(Event::Source {
            source: Box::new(source.clone()),
        });
    }

    fn thumbnail_path(&self, entry: i64) -> PathBuf {
        self.config
            .data_path
            .join("cache")
            .join("sources")
            .join(format!("{entry}.jpg"))
    }

    /// Removes an entry's cached thumbnail (made by [`fetch_thumbnail`]) once it is decided.
    async fn forget_thumbnail(&self, entry: i64) {
        match tokio::fs::remove_file(self.thumbnail_path(entry)).await {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(%err, entry, "could not remove a cached thumbnail"),
        }
    }
}

/// The scheduler: checks sources asked for, then due sources, one at a time; sleeps until the
/// next one is due (at most [`IDLE`]) or it is woken.
pub(crate) async fn schedule(inner: Arc<Inner>) {
    loop {
        if inner.shutdown.is_cancelled() {
            return;
        }
        let asked: Vec<String> = lock(&inner.scheduler.asked).drain(..).collect();
        let due = match inner
            .db
            .read(|c| sources::due(c, &sofathek_db::now()))
            .await
        {
            Ok(due) => due,
            Err(err) => {
                tracing::error!(%err, "could not read the source schedule");
                Vec::new()
            }
        };
        let mut done = HashSet::new();
        for id in asked.into_iter().chain(due) {
            if inner.shutdown.is_cancelled() {
                return;
            }
            if done.insert(id.clone()) {
                lock(&inner.scheduler.checking).insert(id.clone());
                check(&inner, &id).await;
                lock(&inner.scheduler.checking).remove(&id);
                if let Ok(record) = inner
                    .db
                    .read({
                        let id = id.clone();
                        move |c| sources::get(c, &id)
                    })
                    .await
                {
                    inner.emit_source(&record);
                }
            }
        }
        if !lock(&inner.scheduler.asked).is_empty() {
            continue;
        }
        let next = inner.db.read(sources::next_due).await.ok().flatten();
        let wait = next
            .as_deref()
            .and_then(parse_time)
            .map(|at| {
                let left = at - OffsetDateTime::now_utc();
                Duration::try_from(left).unwrap_or(Duration::ZERO)
            })
            .unwrap_or(IDLE)
            .clamp(Duration::from_millis(200), IDLE);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = inner.scheduler.wake.notified() => {}
            () = inner.shutdown.cancelled() => return,
        }
    }
}

/// A failed check: its stored error.
fn check_error(code: impl Into<String>, message: impl Into<String>) -> CheckError {
    CheckError {
        code: code.into(),
        message: message.into(),
    }
}

/// Checks one source and records the outcome; never fails (errors are the source's).
async fn check(inner: &Arc<Inner>, id: &str) {
    let lookup = id.to_owned();
    let source = match inner.db.read(move |c| sources::get(c, &lookup)).await {
        Ok(s) => s,
        Err(DbError::NotFound) => return,
        Err(err) => {
            tracing::error!(%err, source = %id, "could not read a source");
            return;
        }
    };
    let started = OffsetDateTime::now_utc();
    let outcome = list_and_take(inner, &source).await;
    let at = format_time(started);
    let (checked, next, took) = match outcome {
        Ok(took) => {
            let next = after(
                OffsetDateTime::now_utc(),
                Duration::from_secs(u64::from(source.settings.interval_secs)),
            );
            let title = took.title.clone();
            (Checked::Listed { title }, next, Some(took))
        }
        Err(error) => {
            tracing::warn!(source = %source.id, code = %error.code, message = %error.message, "source check failed");
            let next = after(OffsetDateTime::now_utc(), backoff(source.failures + 1));
            (Checked::Failed(error), next, None)
        }
    };
    let ok = took.is_some();
    let (queued, pending, skipped) = took.as_ref().map_or((0, 0, 0), |t| {
        (
            t.jobs.len(),
            t.count(EntryState::Pending),
            t.count(EntryState::Skipped),
        )
    });
    let record_id = source.id.clone();
    let result = inner
        .db
        .write(move |tx| {
            let mut made = Vec::new();
            let mut held = Vec::new();
            if let Some(took) = &took {
                for (job, entry) in &took.jobs {
                    made.push(jobs::insert(tx, job)?);
                    insert_new(tx, &record_id, entry)?;
                }
                for entry in &took.entries {
                    let rowid = insert_new(tx, &record_id, entry)?;
                    if let (Some(rowid), EntryState::Pending) = (rowid, entry.state) {
                        held.push((rowid, entry.thumbnail_url.clone()));
                    }
                }
            }
            sources::record_check(tx, &record_id, &checked, &at, &next)?;
            Ok((made, held))
        })
        .await;
    match result {
        Ok((made, held)) => {
            inner
                .metrics
                .count_source_check(ok, queued, pending, skipped);
            for job in &made {
                inner.emit(job);
            }
            if !made.is_empty() {
                inner.wake(JobKind::Url);
            }
            tracing::info!(source = %source.id, ok, queued, pending, skipped, "source checked");
            for (rowid, thumbnail) in held {
                if let Some(url) = thumbnail.as_deref().and_then(|u| Url::parse(u).ok()) {
                    fetch_thumbnail(inner, rowid, &url).await;
                }
            }
        }
        Err(err) => tracing::error!(%err, source = %source.id, "could not record a source check"),
    }
}

/// Records an entry unless the source already has it (a concurrent approval cannot race a
/// check of the same source, but a stale listing may repeat an entry); its row id when new.
fn insert_new(
    tx: &sofathek_db::Tx<'_>,
    source: &str,
    entry: &NewEntry,
) -> Result<Option<i64>, DbError> {
    match sources::insert_entry(tx, source, entry) {
        Ok(rowid) => Ok(Some(rowid)),
        Err(DbError::Conflict(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// What a successful listing produced, to be recorded in one transaction.
struct Took {
    title: Option<String>,
    /// Jobs (approval `auto`), each with its entry.
    jobs: Vec<(NewJob, NewEntry)>,
    /// Entries without a job: held for approval or skipped.
    entries: Vec<NewEntry>,
}

impl Took {
    fn count(&self, state: EntryState) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }
}

fn new_entry(entry: &ListedEntry, state: EntryState, reason: Option<&str>) -> NewEntry {
    NewEntry {
        entry_id: entry.id.clone(),
        url: entry.url.to_string(),
        title: entry.title.clone(),
        duration: entry.duration,
        published_at: published_at(entry),
        thumbnail_url: entry.thumbnail.as_ref().map(Url::to_string),
        state,
        reason: reason.map(str::to_owned),
        job_id: None,
    }
}

/// Lists the source and decides what to take in (nothing is written here).
async fn list_and_take(inner: &Arc<Inner>, source: &SourceRecord) -> Result<Took, CheckError> {
    let url = sofathek_core::urlpolicy::check(&source.url, inner.egress.rules())
        .await
        .map_err(|e| check_error(e.code(), e.source_message()))?;
    let listing = list(inner, source, &url).await?;
    let lookup = source.id.clone();
    let seen = inner
        .db
        .read(move |c| sources::seen(c, &lookup))
        .await
        .map_err(|e| check_error(Code::Database, e.to_string()))?;
    let decision = decide(&listing, &seen, &source.settings, source.checks == 0);
    if decision.later > 0 {
        tracing::info!(source = %source.id, later = decision.later, "more new entries than a check takes: the next check takes them");
    }
    let mut took = Took {
        title: listing.title.clone(),
        jobs: Vec::new(),
        entries: Vec::new(),
    };
    for (entry, reason) in &decision.skipped {
        took.entries
            .push(new_entry(entry, EntryState::Skipped, Some(reason)));
    }
    if !decision.taken.is_empty() && source.settings.approval == Approval::Auto {
        // Low disk: take nothing now (nothing is recorded, so the next check takes them).
        super::check_disk(inner).map_err(|e| check_error(e.code(), e.client_message()))?;
    }
    for entry in decision.taken {
        // The worker checks the URL again before downloading; refusing it here records why.
        if let Err(err) =
            sofathek_core::urlpolicy::check(entry.url.as_str(), inner.egress.rules()).await
        {
            took.entries.push(new_entry(
                entry,
                EntryState::Skipped,
                Some(&format!("address refused: {}", err.api_message())),
            ));
            continue;
        }
        match source.settings.approval {
            Approval::Review => took
                .entries
                .push(new_entry(entry, EntryState::Pending, None)),
            Approval::Auto => {
                let job = new_job(source, entry.url.as_str(), entry.title.as_deref());
                let mut recorded = new_entry(entry, EntryState::Queued, None);
                recorded.job_id = Some(job.id.clone());
                took.jobs.push((job, recorded));
            }
        }
    }
    Ok(took)
}

/// Runs yt-dlp's flat listing through the egress guard.
async fn list(inner: &Arc<Inner>, source: &SourceRecord, url: &Url) -> Result<Listing, CheckError> {
    let label = format!("source-{}", source.id);
    let ticket = inner.egress.ticket(&label, LIST_ALLOWANCE).map_err(|e| {
        check_error(
            Code::Egress,
            format!("the egress guard is not available: {e}"),
        )
    })?;
    let options = url_source::download_options(&inner.config);
    let args = url_source::through(args::listing_args(&options, url, LIST_WINDOW), ticket.url());
    let spec = Spec::new(Tool::yt_dlp(&inner.config.ytdlp), LIST_TIMEOUT)
        .args(args)
        .label(&label)
        .cancel_on(inner.shutdown.child_token());
    let spec = url_source::guarded(spec, ticket.url());
    let run = process::run(spec).await.map_err(|e| {
        Failure::process(e, |e| {
            Failure::ytdlp(classify(e.stderr_tail().unwrap_or_default()), e)
        })
    });
    let output = super::pipeline::guard_verdict(&ticket, run).map_err(|failure| match failure {
        Failure::Cancelled => check_error(Code::Cancelled, "the server is stopping"),
        Failure::Failed { error, detail } => {
            tracing::info!(source = %source.id, %detail, "listing failed");
            check_error(&error.code, listing_message(&error.code, error.message))
        }
    })?;
    parse_listing(&String::from_utf8_lossy(&output.stdout)).map_err(|e| match e {
        ListingError::NotAList => check_error(Code::SourceNotAList, e.to_string()),
        ListingError::NotJson(_) => check_error(Code::SourceListFailed, e.to_string()),
    })
}

/// A listing failure in words about the source (yt-dlp's classes speak of "this video").
fn listing_message(code: &str, message: String) -> String {
    if code == Code::VideoUnavailable {
        "This channel, playlist or feed is not available: it was removed, is private, or the address is wrong.".into()
    } else if code == Code::DownloadFailed {
        "The channel, playlist or feed could not be listed: the site answered something SOFATHEK could not read.".into()
    } else {
        message
    }
}

/// Fetches an entry's thumbnail through the egress guard into `cache/sources/<entry>.jpg`:
/// ffmpeg reads the image (over http or https, via the guard's proxy) and writes a small JPEG,
/// first to a temporary name. A failure only leaves the entry without a picture.
async fn fetch_thumbnail(inner: &Arc<Inner>, entry: i64, url: &Url) {
    let path = inner.thumbnail_path(entry);
    let Some(dir) = path.parent() else { return };
    if let Err(err) = tokio::fs::create_dir_all(dir).await {
        tracing::warn!(%err, "could not create the thumbnail cache");
        return;
    }
    let label = format!("thumbnail-{entry}");
    let Ok(ticket) = inner.egress.ticket(&label, 8 << 20) else {
        return;
    };
    let partial = path.with_extension("part.jpg");
    let spec = Spec::new(Tool::ffmpeg(&inner.config.ffmpeg), THUMBNAIL_TIMEOUT)
        .args([
            "-hide_banner".into(),
            "-loglevel".into(),
            "error".into(),
            "-nostdin".into(),
            "-y".into(),
            "-http_proxy".into(),
            ticket.url().into(),
            "-i".into(),
            std::ffi::OsString::from(url.as_str()),
            "-frames:v".into(),
            "1".into(),
            "-vf".into(),
            format!("scale='min({THUMBNAIL_WIDTH},iw)':-2").into(),
            "-f".into(),
            "image2".into(),
            "-c:v".into(),
            "mjpeg".into(),
            partial.clone().into_os_string(),
        ])
        .label(&label)
        .cancel_on(inner.shutdown.child_token());
    let spec = url_source::guarded(spec, ticket.url());
    let result = process::run(spec).await;
    let refused = !ticket.refusals().is_empty();
    drop(ticket);
    match result {
        Ok(_) if !refused => {
            if let Err(err) = tokio::fs::rename(&partial, &path).await {
                tracing::warn!(%err, "could not keep a thumbnail");
            }
        }
        outcome => {
            if let Err(err) = outcome {
                tracing::info!(%err, entry, "no thumbnail for a source entry");
            }
            let _ = tokio::fs::remove_file(&partial).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, title: &str, published: Option<i64>, duration: Option<f64>) -> ListedEntry {
        ListedEntry {
            id: id.into(),
            url: Url::parse(&format!("http://127.0.0.1/{id}.mp4")).expect("url"),
            title: Some(title.into()),
            duration,
            published,
            thumbnail: None,
        }
    }

    /// Ten entries, newest first: e10 (day 10) … e1 (day 1).
    fn listing() -> Listing {
        Listing {
            title: Some("Feed".into()),
            entries: (1..=10)
                .rev()
                .map(|n| {
                    entry(
                        &format!("e{n}"),
                        &format!("Episode {n}"),
                        Some(n * 86_400),
                        Some(60.0),
                    )
                })
                .collect(),
            unusable: 0,
        }
    }

    fn ids(entries: &[&ListedEntry]) -> Vec<String> {
        entries.iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn the_first_check_takes_the_latest_n_oldest_first_up_to_the_maximum() {
        let mut settings = defaults();
        settings.start_latest = Some(4);
        settings.max_per_check = 3;
        let listing = listing();
        let d = decide(&listing, &HashSet::new(), &settings, true);
        assert_eq!(ids(&d.taken), ["e7", "e8", "e9"]);
        assert_eq!(d.later, 1, "e10 waits for the next check");
        assert_eq!(d.skipped.len(), 6);
        assert!(
            d.skipped
                .iter()
                .all(|(_, r)| *r == "before the start point")
        );
        // The next check: e10 is unseen and no longer subject to the start point.
        let seen: HashSet<String> = (1..=9).map(|n| format!("e{n}")).collect();
        let d = decide(&listing, &seen, &settings, false);
        assert_eq!(ids(&d.taken), ["e10"]);
    }

    #[test]
    fn a_date_start_point_skips_older_and_undated_entries_at_first() {
        let mut settings = defaults();
        settings.start_after = Some("1970-01-08".into()); // day 7
        let mut listing = listing();
        listing
            .entries
            .push(entry("undated", "Undated", None, None));
        let d = decide(&listing, &HashSet::new(), &settings, true);
        assert_eq!(ids(&d.taken), ["e7", "e8", "e9", "e10"]);
        assert_eq!(d.skipped.len(), 7);
        let d = decide(&listing, &HashSet::new(), &settings, false);
        assert!(
            ids(&d.taken).contains(&"undated".to_owned()),
            "later, undated is new"
        );
    }

    #[test]
    fn filters_and_maximum_duration_skip_with_a_reason() {
        let mut settings = defaults();
        settings.include = "magnet, water".into();
        settings.exclude = "LIVE".into();
        settings.max_duration_secs = Some(600);
        let listing = Listing {
            title: None,
            entries: vec![
                entry("a", "Magnets are fun", Some(5), Some(300.0)),
                entry("b", "Water live stream", Some(4), Some(100.0)),
                entry("c", "Volcanoes", Some(3), Some(100.0)),
                entry("d", "Water cycle", Some(2), Some(3.0 * 3600.0)),
                entry("e", "Water drops", Some(1), None),
                entry("a", "Magnets are fun (listed twice)", Some(5), None),
            ],
            unusable: 0,
        };
        let d = decide(&listing, &HashSet::new(), &settings, false);
        assert_eq!(ids(&d.taken), ["e", "a"]);
        let reasons: Vec<(&str, &str)> =
            d.skipped.iter().map(|(e, r)| (e.id.as_str(), *r)).collect();
        assert_eq!(
            reasons,
            [
                ("b", "filtered by title"),
                ("c", "filtered by title"),
                ("d", "longer than the maximum duration")
            ]
        );
    }

    #[test]
    fn requests_are_validated_into_settings() {
        let req = |json: &str| -> SourceRequest {
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
        };
        let s = apply(defaults(), &req(r#"{"url":"x"}"#), true).expect("defaults");
        assert_eq!(
            (s.interval_secs, s.start_latest, s.max_per_check, s.approval),
            (86_400, Some(3), 5, Approval::Review)
        );
        let s = apply(
            defaults(),
            &req(r#"{"startAfter":"2026-11-01","include":" a ,,B ","maxDurationMinutes":30,"approval":"auto","name":"  "}"#),
            true,
        )
        .expect("valid");
        assert_eq!(s.start_after.as_deref(), Some("2026-11-01"));
        assert_eq!(
            (s.start_latest, s.include.as_str(), s.max_duration_secs),
            (None, "a, B", Some(1800))
        );
        assert_eq!((s.approval, s.name), (Approval::Auto, None));
        for bad in [
            r#"{"intervalHours":0}"#,
            r#"{"intervalHours":721}"#,
            r#"{"startAfter":"2026-13-01"}"#,
            r#"{"startAfter":"2026-11-01","startLatest":2}"#,
            r#"{"startLatest":0}"#,
            r#"{"maxPerCheck":51}"#,
            r#"{"maxDurationMinutes":0}"#,
            r#"{"approval":"sometimes"}"#,
            r#"{"enabled":null}"#,
        ] {
            assert!(
                matches!(
                    apply(defaults(), &req(bad), true),
                    Err(IngestError::InvalidSource(_))
                ),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<SourceRequest>(r#"{"colour":"red"}"#).is_err());
        // A PATCH that sets one start point clears the other.
        let mut current = defaults();
        current.start_latest = Some(3);
        let s = apply(current, &req(r#"{"startAfter":"2026-01-01"}"#), false).expect("patch");
        assert_eq!(
            (s.start_after.as_deref(), s.start_latest),
            (Some("2026-01-01"), None)
        );
    }

    #[test]
    fn backoff_doubles_up_to_a_week() {
        assert_eq!(backoff(1), Duration::from_secs(3600));
        assert_eq!(backoff(2), Duration::from_secs(7200));
        assert_eq!(backoff(4), Duration::from_secs(8 * 3600));
        assert_eq!(backoff(40), BACKOFF_MAX);
    }
}
