//! [`OpenedFile`]: a regular file open for reading with the metadata of the open handle, so a
//! rename or replacement between a handler's checks and the read cannot mix two files.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::http::HeaderValue;

use super::ServeError;
use crate::range::Validators;

/// A regular file opened for reading, with the metadata of the open handle.
///
/// A clone shares the open handle (reads are positional, so responses sharing it do not
/// disturb each other); see [`OpenedFile::reuse`].
#[derive(Debug, Clone)]
pub struct OpenedFile {
    pub(super) file: Arc<std::fs::File>,
    pub(super) version: Arc<Version>,
    pub(super) path: Arc<Path>,
}

/// What a response tells about the file as it is now: its size and validators, with their
/// header values. A kept file ([`OpenedFile::reuse`]) is answered many times — a player asks
/// for a video in many ranges — so they are made once per version of the file, not per
/// response (the `ETag` and date formatting was ~2k of a range request's ~47k user-space
/// instructions, callgrind).
#[derive(Debug)]
pub(super) struct Version {
    pub(super) size: u64,
    modified: Option<SystemTime>,
    pub(super) validators: Validators,
    pub(super) etag: Option<HeaderValue>,
    pub(super) last_modified: Option<HeaderValue>,
}

impl Version {
    fn of(metadata: &std::fs::Metadata) -> Version {
        let (size, modified) = (metadata.len(), metadata.modified().ok());
        let validators = Validators::new(size, modified);
        Version {
            size,
            modified,
            etag: HeaderValue::try_from(validators.etag.as_str()).ok(),
            last_modified: validators
                .last_modified_header()
                .and_then(|date| HeaderValue::try_from(date).ok()),
            validators,
        }
    }

    /// This version when `metadata` still describes it, else the new version.
    fn current(self: &Arc<Version>, metadata: &std::fs::Metadata) -> Arc<Version> {
        if metadata.len() == self.size && metadata.modified().ok() == self.modified {
            Arc::clone(self)
        } else {
            Arc::new(Version::of(metadata))
        }
    }
}

impl OpenedFile {
    /// Opens `path` for reading; anything but a regular file is [`ServeError::NotAFile`].
    ///
    /// This blocks: call it on the blocking pool, for example in the same `spawn_blocking` as
    /// other file-system checks of a handler, then answer with [`serve_opened`](super::serve_opened). `O_NONBLOCK`
    /// keeps a FIFO from blocking the open forever (it has no effect on regular files).
    pub fn open(path: PathBuf) -> Result<OpenedFile, ServeError> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(&path)
            .map_err(open_error)?;
        OpenedFile::from_open(file, path)
    }

    /// Opens `path` without waiting for the disk, on the async worker
    /// ([`sofathek_core::library::open_no_wait_at`]; the metadata of an open file is in memory). `None`
    /// when that is not possible: then [`OpenedFile::open`] on the blocking pool gives the
    /// authoritative answer. This saves a thread hand-off per request.
    #[cfg(target_os = "linux")]
    pub(super) fn open_no_wait(path: &Path) -> Option<OpenedFile> {
        let file = sofathek_core::library::open_no_wait_at(
            rustix::fs::CWD,
            path,
            rustix::fs::ResolveFlags::empty(),
        )?;
        OpenedFile::from_open(file, path.to_path_buf()).ok()
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn open_no_wait(_path: &Path) -> Option<OpenedFile> {
        None
    }

    /// A file the caller opened itself (without blocking, for example with
    /// [`sofathek_core::library::open_no_wait`]); `path` names it in error messages. Anything but a
    /// regular file is [`ServeError::NotAFile`]. The metadata comes from the open handle, so
    /// this does not wait for the disk.
    pub fn from_open(file: std::fs::File, path: PathBuf) -> Result<OpenedFile, ServeError> {
        let metadata = file.metadata().map_err(ServeError::Io)?;
        if !metadata.is_file() {
            return Err(ServeError::NotAFile);
        }
        Ok(OpenedFile {
            file: Arc::new(file),
            version: Arc::new(Version::of(&metadata)),
            path: path.into(),
        })
    }

    /// This file again for another response, with its metadata read anew from the handle (one
    /// `fstat`, never waiting for the disk), so its size, `ETag` and `Last-Modified` are
    /// current (made anew only when the size or modification time changed). `None` when the file has been deleted or replaced since it was opened (no
    /// name links to it any more): it must then be opened by name again.
    #[cfg(unix)]
    pub fn reuse(&self) -> Option<OpenedFile> {
        use std::os::unix::fs::MetadataExt;
        let metadata = self.file.metadata().ok()?;
        (metadata.nlink() > 0).then(|| OpenedFile {
            file: Arc::clone(&self.file),
            version: self.version.current(&metadata),
            path: Arc::clone(&self.path),
        })
    }

    /// The file's size in bytes when it was opened.
    pub fn size(&self) -> u64 {
        self.version.size
    }
}

/// Classifies an error from opening a file.
pub(super) fn open_error(err: io::Error) -> ServeError {
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => ServeError::NotFound,
        io::ErrorKind::PermissionDenied => ServeError::PermissionDenied,
        _ if rustix::io::Errno::from_io_error(&err) == Some(rustix::io::Errno::NAMETOOLONG) => {
            ServeError::NotFound
        }
        _ => ServeError::Io(err),
    }
}
