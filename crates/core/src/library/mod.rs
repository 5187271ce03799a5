//! The data directory's layout and the library's files: naming, path safety, atomic publish,
//! sidecars, deletion, start-up reconciliation and what a library scan sees ([`scan`]).
//!
//! Nothing outside this module creates, renames or removes files in the library directory.
//! The library folder is the family's data: files are added by publish, rewritten only as a
//! video's own sidecar, and removed only by a parent's explicit delete (and the replaced
//! source of an import job, after its converted video is published). Unknown files are never
//! garbage: a scan adopts them or reports why not.
//!
//! ```text
//! SOFATHEK_DATA_PATH/
//!   sofathek.db (+ -wal, -shm)   the catalogue and the job queue
//!   library/                      flat: <stem>.mp4|webm, <stem>.webp, <stem>.<lang>.vtt, <stem>.mp3,
//!                                 <stem>.info.json (sidecar), and whatever the family drops in
//!   staging/<job-id>/             per-job work directories (same filesystem as library/)
//!   staging/.upload-*             uploads being received
//! ```

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sofathek_db::videos::{self, FileKind, VideoRecord};
use sofathek_db::{Db, DbError};

pub mod disk;
pub mod scan;
pub mod sidecar;

/// Paths of the data directory (cheap to clone: handlers get a copy per request).
#[derive(Debug, Clone)]
pub struct Layout {
    pub data: Arc<Path>,
    pub database: Arc<Path>,
    pub library: Arc<Path>,
    pub staging: Arc<Path>,
}

impl Layout {
    pub fn new(data: &Path) -> Layout {
        Layout {
            data: data.into(),
            database: data.join("sofathek.db").into(),
            library: data.join("library").into(),
            staging: data.join("staging").into(),
        }
    }

    /// Creates the library and staging directories.
    pub fn create_dirs(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.library)?;
        std::fs::create_dir_all(&self.staging)
    }

    /// The per-job staging directory.
    pub fn job_dir(&self, job_id: &str) -> PathBuf {
        self.staging.join(job_id)
    }
}

/// Why a requested file name is refused (original §1.5 messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Empty,
    Invalid,
    BadExtension,
}

impl NameError {
    pub fn message(self) -> &'static str {
        match self {
            NameError::Empty => "Filename parameter is required",
            NameError::Invalid => "Invalid filename",
            NameError::BadExtension => "Invalid file type",
        }
    }
}

/// Extensions the stream route accepts (original §1.5), lowercase without the dot.
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "webm", "ogg", "avi", "mov", "wmv", "flv", "mkv", "m4v",
];
/// Extensions the download route accepts in addition to videos.
pub const DOWNLOAD_EXTRA_EXTENSIONS: &[&str] = &["mp3", "m4a", "srt", "vtt"];
/// Extensions the thumbnail route accepts.
pub const THUMBNAIL_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp"];

/// The lowercase extension of a name.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// Checks a client-supplied file name: a single path component with an allowed extension.
///
/// A name that merely contains `..` inside a word (`Part 1..3.mp4`) is fine; separators,
/// `.`/`..`, absolute paths, NUL and control characters are not.
pub fn check_name(name: &str, allowed: &[&[&str]]) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name == "."
        || name == ".."
        || name.starts_with('.')
        || name.len() > 1024
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(NameError::Invalid);
    }
    let ext = extension(name).ok_or(NameError::BadExtension)?;
    if allowed.iter().any(|list| list.contains(&ext.as_str())) {
        Ok(())
    } else {
        Err(NameError::BadExtension)
    }
}

/// MIME type of a library file by extension (original §1.5 tables plus WebVTT).
pub fn mime_type(name: &str) -> &'static str {
    match extension(name).as_deref() {
        Some("mp4" | "m4v") => "video/mp4",
        Some("webm") => "video/webm",
        Some("ogg") => "video/ogg",
        Some("avi") => "video/x-msvideo",
        Some("mov") => "video/quicktime",
        Some("wmv") => "video/x-ms-wmv",
        Some("flv") => "video/x-flv",
        Some("mkv") => "video/x-matroska",
        Some("mp3") => "audio/mpeg",
        Some("m4a") => "audio/mp4",
        Some("srt") => "application/x-subrip",
        Some("vtt") => "text/vtt; charset=utf-8",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => "video/mp4",
    }
}

/// Where a library file may be read from, or why not.
#[derive(Debug)]
pub enum Resolved {
    Path(PathBuf),
    /// The name exists but leads outside the library (a symlink): 403.
    Outside,
    NotFound,
}

/// Resolves a checked name to a path inside the library, following symlinks only when the
/// target stays inside the library directory.
///
/// `name` must have passed [`check_name`] (one component, no separators), so joining it cannot
/// leave the directory; only a symlink can, and only symlinks pay for a full canonicalisation.
pub fn resolve(layout: &Layout, name: &str) -> Resolved {
    let path = layout.library.join(name);
    match std::fs::symlink_metadata(&path) {
        Err(_) => return Resolved::NotFound,
        Ok(meta) if !meta.file_type().is_symlink() => return Resolved::Path(path),
        Ok(_) => {}
    }
    let real = match std::fs::canonicalize(&path) {
        Ok(real) => real,
        Err(_) => return Resolved::NotFound,
    };
    let root =
        std::fs::canonicalize(&layout.library).unwrap_or_else(|_| layout.library.to_path_buf());
    if real.parent() == Some(root.as_path()) {
        Resolved::Path(real)
    } else {
        Resolved::Outside
    }
}

/// Opens the library directory for [`open_no_wait`]: a handle that names the directory itself,
/// not a path (`O_PATH`), kept for the life of the server.
#[cfg(target_os = "linux")]
pub fn open_dir(layout: &Layout) -> io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    Ok(rustix::fs::open(&*layout.library, flags, Mode::empty())?)
}

/// Opens the library file `name` (checked by [`check_name`]) relative to the library directory
/// `dir`, only if that needs neither the disk nor a decision about symlinks: `RESOLVE_BENEATH`
/// and `RESOLVE_NO_SYMLINKS` on top of [`open_no_wait_at`]. A file opened this way is a plain
/// directory entry of the library, exactly what [`resolve`] accepts without canonicalising.
/// `None` for anything else (a symlink, not cached, missing, an old kernel): then [`resolve`]
/// and a path open give the authoritative answer.
///
/// This is the streaming hot path: one system call instead of a `lstat` of the full path
/// followed by an `open` that walks the path again.
#[cfg(target_os = "linux")]
pub fn open_no_wait(dir: std::os::fd::BorrowedFd<'_>, name: &str) -> Option<std::fs::File> {
    use rustix::fs::ResolveFlags;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
    open_no_wait_at(dir, Path::new(name), resolve)
}

/// Opens `path` (relative to `dir`) read-only without waiting for the disk: `openat2` with
/// `RESOLVE_CACHED` resolves it only from the dentry cache (as io_uring's fast path does), with
/// the extra `resolve` rules. `None` when that is not possible (not cached, any error); after
/// `ENOSYS`/`EINVAL`/`EPERM` (a kernel before 5.12, a seccomp filter) it is not tried again.
/// `O_NONBLOCK` keeps a FIFO from blocking the open (it has no effect on regular files).
#[cfg(target_os = "linux")]
pub fn open_no_wait_at(
    dir: std::os::fd::BorrowedFd<'_>,
    path: &Path,
    resolve: rustix::fs::ResolveFlags,
) -> Option<std::fs::File> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    use rustix::io::Errno;
    use std::sync::atomic::{AtomicBool, Ordering};
    static WORKS: AtomicBool = AtomicBool::new(true);
    if !WORKS.load(Ordering::Relaxed) {
        return None;
    }
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let resolve = resolve | ResolveFlags::CACHED;
    match rustix::fs::openat2(dir, path, flags, Mode::empty(), resolve) {
        Ok(fd) => Some(std::fs::File::from(fd)),
        Err(Errno::NOSYS | Errno::INVAL | Errno::PERM) => {
            WORKS.store(false, Ordering::Relaxed);
            None
        }
        Err(_) => None,
    }
}

/// One file of a video being published: produced in staging and moved into the library, or
/// already in the library (`in_place`: a file found there by a scan, or the source of an
/// import job), which publish records without moving and never removes.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub source: PathBuf,
    pub name: String,
    pub kind: FileKind,
    pub language: Option<String>,
    pub in_place: bool,
}

impl StagedFile {
    /// A file made in staging, to be moved into the library as `name`.
    pub fn staged(source: PathBuf, name: String, kind: FileKind, language: Option<String>) -> Self {
        StagedFile {
            source,
            name,
            kind,
            language,
            in_place: false,
        }
    }

    /// A file already in the library under `name`.
    pub fn in_place(layout: &Layout, name: &str, kind: FileKind, language: Option<String>) -> Self {
        StagedFile {
            source: layout.library.join(name),
            name: name.to_owned(),
            kind,
            language,
            in_place: true,
        }
    }
}

/// A publish or delete failure.
#[derive(Debug)]
pub enum LibraryError {
    Io(io::Error),
    Db(DbError),
}

impl std::fmt::Display for LibraryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LibraryError::Io(err) => write!(f, "library file operation failed: {err}"),
            LibraryError::Db(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for LibraryError {}

impl From<io::Error> for LibraryError {
    fn from(err: io::Error) -> Self {
        LibraryError::Io(err)
    }
}

impl From<DbError> for LibraryError {
    fn from(err: DbError) -> Self {
        LibraryError::Db(err)
    }
}

/// An exclusive lock on the library directory (`flock`, so it also holds between processes:
/// the server, `sofathek import` and `sofathek scan`). A publish holds it from the first
/// rename to the commit, and a scan while it decides which files are unknown and while it
/// adopts one, so a scan never mistakes a publish in progress for a dropped-in file.
pub struct LibraryLock {
    _dir: std::fs::File,
}

impl LibraryLock {
    /// Waits for the lock (blocking: call it on the blocking pool).
    pub fn acquire_blocking(layout: &Layout) -> io::Result<LibraryLock> {
        let dir = std::fs::File::open(&*layout.library)?;
        rustix::fs::flock(&dir, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(LibraryLock { _dir: dir })
    }

    /// Waits for the lock without blocking the runtime.
    pub async fn acquire(layout: &Layout) -> io::Result<LibraryLock> {
        let layout = layout.clone();
        tokio::task::spawn_blocking(move || LibraryLock::acquire_blocking(&layout))
            .await
            .map_err(io::Error::other)?
    }
}

/// Moves staged files into the library and records the video in one transaction, with its
/// sidecar `<stem>.info.json` (see [`sidecar`]).
///
/// The sidecar is written first, then files are renamed (same filesystem) or copied, fsynced
/// and renamed (different filesystems); the library directory is fsynced; only then is the
/// catalogue row committed. If anything fails the files moved in are removed again (files
/// that were already in the library, `in_place`, never are). A crash between the two steps
/// leaves complete files and their sidecar, which the next library scan adopts with the
/// sidecar's title, category and date. All of it runs under the [`LibraryLock`].
pub async fn publish(
    db: &Db,
    layout: &Layout,
    mut video: VideoRecord,
    files: Vec<StagedFile>,
) -> Result<VideoRecord, LibraryError> {
    let category_name = match video.category.clone() {
        Some(slug) => db
            .read(move |c| sofathek_db::categories::name_of(c, &slug))
            .await
            .unwrap_or(None),
        None => None,
    };
    let _lock = LibraryLock::acquire(layout).await?;
    let known = db.read(videos::all_file_names).await?;
    let layout_owned = layout.clone();
    let record_for_sidecar = video.clone();
    let moved = tokio::task::spawn_blocking(move || {
        let mut files = files;
        let sidecar = sidecar::stage(
            &layout_owned,
            &record_for_sidecar,
            category_name.as_deref(),
            &files,
            &known,
        );
        if let Some(file) = sidecar {
            // First in the list: moved first, so a crash leaves it beside the video.
            files.retain(|f| f.name != file.name);
            files.insert(0, file);
        }
        move_all(&layout_owned.library, &files)
    })
    .await
    .map_err(|e| LibraryError::Io(io::Error::other(e)))??;
    video.files = moved.iter().map(|m| m.record.clone()).collect();
    if let Some((name, size)) = video
        .file_of(FileKind::Video)
        .map(|f| (f.name.clone(), f.size))
    {
        video.file_name = name;
        video.size = size;
    }
    let record = video.clone();
    match db.write(move |tx| videos::insert(tx, &record)).await {
        Ok(()) => Ok(video),
        Err(err) => {
            for file in moved.iter().filter(|m| !m.in_place) {
                let _ = std::fs::remove_file(&file.path);
            }
            Err(err.into())
        }
    }
}

/// A file now in the library, and whether it was there before the publish.
struct Moved {
    path: PathBuf,
    record: sofathek_db::videos::FileRecord,
    in_place: bool,
}

fn move_all(library: &Path, files: &[StagedFile]) -> io::Result<Vec<Moved>> {
    let mut moved: Vec<Moved> = Vec::new();
    for file in files {
        let target = library.join(&file.name);
        let result = (|| {
            if !file.in_place {
                if target.exists() {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} already exists in the library", file.name),
                    ));
                }
                move_file(&file.source, &target)?;
            }
            std::fs::metadata(&target)
        })();
        match result {
            Ok(meta) => moved.push(Moved {
                path: target,
                record: sofathek_db::videos::FileRecord {
                    name: file.name.clone(),
                    kind: file.kind,
                    language: file.language.clone(),
                    size: meta.len(),
                },
                in_place: file.in_place,
            }),
            Err(err) => {
                for file in moved.iter().filter(|m| !m.in_place) {
                    let _ = std::fs::remove_file(&file.path);
                }
                return Err(err);
            }
        }
    }
    std::fs::File::open(library)?.sync_all()?;
    Ok(moved)
}

/// Renames `from` to `to`; across filesystems copies to a temporary name, fsyncs and renames.
pub fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(err) if err.raw_os_error() == Some(rustix::io::Errno::XDEV.raw_os_error()) => {
            copy_file(from, to)?;
            std::fs::remove_file(from)
        }
        Err(err) => Err(err),
    }
}

/// Copies `from` to `to` through a hidden temporary file in the target directory, fsynced and
/// renamed into place, so `to` never exists half-written.
pub fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(dir)?;
    let mut src = std::fs::File::open(from)?;
    io::copy(&mut src, tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(to).map_err(|e| e.error)?;
    Ok(())
}

/// Removes a video from the catalogue, then its files (its sidecar too). Returns the removed
/// record. This — a parent's explicit delete — is the only way a library file is removed.
///
/// The catalogue delete also remembers the files as deleted, so a crash before they are
/// unlinked does not let a scan adopt them again: [`reconcile`] finishes the delete.
pub async fn delete(db: &Db, layout: &Layout, id: &str) -> Result<VideoRecord, LibraryError> {
    let id_owned = id.to_owned();
    let video = db.write(move |tx| videos::delete(tx, &id_owned)).await?;
    let names: Vec<String> = video.files.iter().map(|f| f.name.clone()).collect();
    let gone = unlink_deleted(layout, &names);
    db.write(move |tx| videos::forget_deleted(tx, &gone))
        .await?;
    Ok(video)
}

/// Unlinks files of deleted videos; returns the names that are gone now.
fn unlink_deleted(layout: &Layout, names: &[String]) -> Vec<String> {
    let mut gone = Vec::new();
    for name in names {
        match std::fs::remove_file(layout.library.join(name)) {
            Ok(()) => gone.push(name.clone()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => gone.push(name.clone()),
            Err(err) => {
                tracing::warn!(file = %name, %err, "could not remove a deleted video's file")
            }
        }
    }
    gone
}

/// Drops the source of a finished import job once the converted video is published: the file
/// (recorded as the video's `original` by the publish) is unlinked first, then its catalogue
/// row removed, so a crash in between leaves a catalogue row without a file (reported at
/// start-up), never an unknown file that a scan would convert again.
pub async fn drop_original(db: &Db, layout: &Layout, name: &str) -> Result<(), LibraryError> {
    match std::fs::remove_file(layout.library.join(name)) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err.into()),
    }
    let name = name.to_owned();
    db.write(move |tx| videos::remove_file(tx, &name)).await?;
    Ok(())
}

/// Writes the sidecar of a video anew (after a parent edited it), atomically: the sidecar it
/// owns, or a new `<stem>.info.json` when it has none and the name is free.
pub async fn rewrite_sidecar(db: &Db, layout: &Layout, id: &str) -> Result<(), LibraryError> {
    let lookup = id.to_owned();
    let (video, category_name) = db
        .read(move |c| {
            let video = videos::get(c, &lookup)?;
            let name = match &video.category {
                Some(slug) => sofathek_db::categories::name_of(c, slug)?,
                None => None,
            };
            Ok((video, name))
        })
        .await?;
    let _lock = LibraryLock::acquire(layout).await?;
    let known = db.read(videos::all_file_names).await?;
    let layout_owned = layout.clone();
    let video_id = video.id.clone();
    let added = tokio::task::spawn_blocking(move || {
        let owned: Vec<StagedFile> = video
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Info)
            .map(|f| StagedFile::in_place(&layout_owned, &f.name, FileKind::Info, None))
            .collect();
        let Some(file) = sidecar::stage(
            &layout_owned,
            &video,
            category_name.as_deref(),
            &owned,
            &known,
        ) else {
            return Ok::<_, io::Error>(None);
        };
        let target = layout_owned.library.join(&file.name);
        if !file.in_place {
            move_file(&file.source, &target)?;
        }
        let size = std::fs::metadata(&target)?.len();
        Ok(Some(sofathek_db::videos::FileRecord {
            name: file.name,
            kind: FileKind::Info,
            language: None,
            size,
        }))
    })
    .await
    .map_err(|e| LibraryError::Io(io::Error::other(e)))??;
    if let Some(record) = added {
        db.write(move |tx| videos::put_file(tx, &video_id, &record))
            .await?;
    }
    Ok(())
}

/// [`rewrite_sidecar`] for each video; failures are logged (the catalogue stays right, the
/// sidecar is rewritten at the next edit).
pub async fn rewrite_sidecars(db: &Db, layout: &Layout, ids: &[String]) {
    for id in ids {
        if let Err(err) = rewrite_sidecar(db, layout, id).await {
            tracing::warn!(video = %id, %err, "could not rewrite the video's sidecar");
        }
    }
}

/// What start-up reconciliation found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// Library files no catalogue entry owns: left alone (the library scan adopts or
    /// reports them).
    pub unknown_files: Vec<String>,
    /// Staging entries that belonged to no active job: removed.
    pub removed_staging: Vec<String>,
    /// Catalogue files missing on disk (reported, not changed).
    pub missing_files: Vec<String>,
    /// Files of videos a parent deleted just before a crash: the delete is finished.
    pub finished_deletes: Vec<String>,
}

/// The entries of a directory as (name, path, is a directory).
fn entries(dir: &Path) -> io::Result<Vec<(String, PathBuf, bool)>> {
    std::fs::read_dir(dir)?
        .map(|entry| {
            let entry = entry?;
            let is_dir = entry.file_type()?.is_dir();
            Ok((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
                is_dir,
            ))
        })
        .collect()
}

fn remove_entry(path: &Path, is_dir: bool) -> io::Result<()> {
    if is_dir {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Brings the data directory in line with the catalogue at start-up, without running ffmpeg:
/// removes stale staging entries (keeping `active_jobs`' directories) and reports library
/// files the catalogue does not know and catalogue files missing on disk. It never removes a
/// library file: staging is the only place cleaned automatically.
pub fn reconcile(
    db: &Db,
    layout: &Layout,
    active_jobs: &HashSet<String>,
) -> Result<Reconciled, LibraryError> {
    let deleted: Vec<String> = db
        .write_blocking(|tx| videos::deleted_files(tx))?
        .into_iter()
        .collect();
    let mut report = Reconciled::default();
    if !deleted.is_empty() {
        let gone = unlink_deleted(layout, &deleted);
        db.write_blocking(|tx| videos::forget_deleted(tx, &gone))?;
        report.finished_deletes = gone;
    }
    let known = db.write_blocking(|tx| videos::all_file_names(tx))?;
    let mut on_disk = HashSet::new();
    for (name, _, _) in entries(&layout.library)? {
        if known.contains(&name) {
            on_disk.insert(name);
        } else {
            report.unknown_files.push(name);
        }
    }
    for (name, path, is_dir) in entries(&layout.staging)? {
        if !active_jobs.contains(&name) {
            match remove_entry(&path, is_dir) {
                Ok(()) => report.removed_staging.push(name),
                Err(err) => {
                    tracing::warn!(entry = %name, %err, "could not remove a stale staging entry")
                }
            }
        }
    }
    let mut missing: Vec<String> = known.difference(&on_disk).cloned().collect();
    missing.sort();
    report.missing_files = missing;
    report.unknown_files.sort();
    report.removed_staging.sort();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let video: &[&[&str]] = &[VIDEO_EXTENSIONS];
        let check = |name: &str, expected: Result<(), NameError>| {
            assert_eq!(check_name(name, video), expected, "{name:?}");
        };
        check("clip.mp4", Ok(()));
        check("CLIP.MP4", Ok(()));
        check("Part 1..3.mp4", Ok(()));
        check("Ünïcode – name.webm", Ok(()));
        check("", Err(NameError::Empty));
        check("..", Err(NameError::Invalid));
        check("../etc/passwd", Err(NameError::Invalid));
        check("/etc/passwd", Err(NameError::Invalid));
        check("a/b.mp4", Err(NameError::Invalid));
        check("a\\b.mp4", Err(NameError::Invalid));
        check("a\0b.mp4", Err(NameError::Invalid));
        check("a\nb.mp4", Err(NameError::Invalid));
        check(".hidden.mp4", Err(NameError::Invalid));
        check("virus.exe", Err(NameError::BadExtension));
        check("noextension", Err(NameError::BadExtension));
        check(".mp4", Err(NameError::Invalid));
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime_type("a.MP4"), "video/mp4");
        assert_eq!(mime_type("a.mp3"), "audio/mpeg");
        assert_eq!(mime_type("a.en.vtt"), "text/vtt; charset=utf-8");
        assert_eq!(mime_type("a.webp"), "image/webp");
        assert_eq!(mime_type("a.unknown"), "video/mp4");
    }

    #[test]
    fn resolve_stays_inside() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(tmp.path());
        layout.create_dirs().expect("dirs");
        std::fs::write(layout.library.join("a.mp4"), b"x").expect("write");
        std::fs::write(tmp.path().join("secret.mp4"), b"x").expect("write");
        std::os::unix::fs::symlink(
            tmp.path().join("secret.mp4"),
            layout.library.join("link.mp4"),
        )
        .expect("symlink");
        std::os::unix::fs::symlink(
            layout.library.join("a.mp4"),
            layout.library.join("alias.mp4"),
        )
        .expect("symlink");
        assert!(matches!(resolve(&layout, "a.mp4"), Resolved::Path(_)));
        assert!(matches!(resolve(&layout, "alias.mp4"), Resolved::Path(_)));
        assert!(matches!(resolve(&layout, "link.mp4"), Resolved::Outside));
        assert!(matches!(resolve(&layout, "none.mp4"), Resolved::NotFound));
    }
}
