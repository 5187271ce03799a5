//! [`OpenedFile`]: a regular file open for reading with the metadata of the open handle, so a
//! rename or replacement between a handler's checks and the read cannot mix two files.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ServeError;

/// A regular file opened for reading, with the metadata of the open handle.
///
/// A clone shares the open handle (reads are positional, so responses sharing it do not
/// disturb each other); see [`OpenedFile::reuse`].
#[derive(Debug, Clone)]
pub struct OpenedFile {
    pub(super) file: Arc<std::fs::File>,
    pub(super) metadata: std::fs::Metadata,
    pub(super) path: Arc<Path>,
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
            metadata,
            path: path.into(),
        })
    }

    /// This file again for another response, with its metadata read anew from the handle (one
    /// `fstat`, never waiting for the disk), so its size, `ETag` and `Last-Modified` are
    /// current. `None` when the file has been deleted or replaced since it was opened (no
    /// name links to it any more): it must then be opened by name again.
    #[cfg(unix)]
    pub fn reuse(&self) -> Option<OpenedFile> {
        use std::os::unix::fs::MetadataExt;
        let metadata = self.file.metadata().ok()?;
        (metadata.nlink() > 0).then(|| OpenedFile {
            file: Arc::clone(&self.file),
            metadata,
            path: Arc::clone(&self.path),
        })
    }

    /// The file's size in bytes when it was opened.
    pub fn size(&self) -> u64 {
        self.metadata.len()
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
