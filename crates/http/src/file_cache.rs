//! The hot path of the file routes (`/api/stream`, `/api/download`, `/api/thumbnails`): one
//! [`FileCache`] answers "the library file `name`, open" and "the category of the video that
//! owns it" without SQLite and, for a file asked for recently, without opening anything.
//!
//! ```text
//! request ─> FileCache::open(name)
//!              ├─ still open from a recent request, and still linked?  → fstat only
//!              ├─ openat2 beneath the library dir, cached lookups only  → no disk wait (Linux)
//!              └─ resolve (symlinks that stay inside) + open on the blocking pool
//!        ─> FileCache::owner(db, name)   category of the owning video (memo, else one read)
//!        ─> serve_file::serve_opened     200/206/304/416, positional reads
//! ```
//!
//! Both memos ([`sofathek_core::memo`]) hold an answer only while no write has committed in
//! this process since it was read, and for at most a second (changes by the CLI). A kept file
//! is served only while it still has a name (a deleted or replaced file is opened anew), and
//! [`FileCache::purge`] closes expired ones every second so a deleted video's space is freed.

use std::path::PathBuf;

use sofathek_core::library::{self, Layout, Resolved};
use sofathek_core::memo::Memo;
use sofathek_db::{Db, DbResult, videos};

use crate::serve_file::{OpenedFile, ServeError};

/// Largest number of library files kept open between requests (file descriptors).
const OPEN_FILES_CAPACITY: usize = 64;
/// Largest number of library file names whose owner is remembered.
const OWNERS_CAPACITY: usize = 4096;

/// Why a library file could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// A symlink leading outside the library.
    Outside,
    /// Missing, not a regular file, unreadable, or an I/O error.
    Serve(ServeError),
}

/// Open library files and the owners of file names, remembered between requests.
pub struct FileCache {
    library: PathBuf,
    layout: Layout,
    /// The library directory, open (`O_PATH`), for opening beneath it without blocking.
    dir: Option<std::os::fd::OwnedFd>,
    open: Memo<String, OpenedFile>,
    owners: Memo<String, Option<String>>,
}

impl FileCache {
    /// A cache over the layout's library directory.
    pub fn new(layout: &Layout) -> std::io::Result<FileCache> {
        #[cfg(target_os = "linux")]
        let dir = Some(library::open_dir(layout)?);
        #[cfg(not(target_os = "linux"))]
        let dir = None;
        Ok(FileCache {
            library: layout.library.to_path_buf(),
            layout: layout.clone(),
            dir,
            open: Memo::new(OPEN_FILES_CAPACITY),
            owners: Memo::new(OWNERS_CAPACITY),
        })
    }

    /// The library file `name` (already checked by `library::check_name`), open. `generation`
    /// is the database's write count read before the request's lookups.
    pub async fn open(&self, generation: u64, name: &str) -> Result<OpenedFile, OpenError> {
        if let Some(opened) = self.open.get(name, generation).and_then(|o| o.reuse()) {
            return Ok(opened);
        }
        let opened = match self.open_beneath(name) {
            Some(opened) => opened,
            None => {
                let path = match library::resolve(&self.layout, name) {
                    Resolved::Path(path) => path,
                    Resolved::Outside => return Err(OpenError::Outside),
                    Resolved::NotFound => return Err(OpenError::Serve(ServeError::NotFound)),
                };
                tokio::task::spawn_blocking(move || OpenedFile::open(path))
                    .await
                    .map_err(|e| OpenError::Serve(ServeError::Io(std::io::Error::other(e))))?
                    .map_err(OpenError::Serve)?
            }
        };
        self.open.put(name.to_owned(), generation, opened.clone());
        Ok(opened)
    }

    /// Opens `name` beneath the library directory if that needs neither the disk nor a
    /// decision about symlinks (Linux); `None` sends the caller the checked path way.
    #[cfg(target_os = "linux")]
    fn open_beneath(&self, name: &str) -> Option<OpenedFile> {
        use std::os::fd::AsFd;
        let file = library::open_no_wait(self.dir.as_ref()?.as_fd(), name)?;
        OpenedFile::from_open(file, self.library.join(name)).ok()
    }

    #[cfg(not(target_os = "linux"))]
    fn open_beneath(&self, _name: &str) -> Option<OpenedFile> {
        let _ = &self.dir;
        None
    }

    /// The category of the video that owns the library file `name` (`None`: no category);
    /// `NotFound` when no video owns it.
    pub async fn owner(&self, db: &Db, generation: u64, name: &str) -> DbResult<Option<String>> {
        if let Some(category) = self.owners.get(name, generation) {
            return Ok(category);
        }
        let asked = name.to_owned();
        let category = db
            .read_point(move |conn| {
                let (owner, _) = videos::find_file(conn, &asked)?;
                videos::category_of(conn, &owner)
            })
            .await?;
        self.owners
            .put(name.to_owned(), generation, category.clone());
        Ok(category)
    }

    /// Closes kept files and forgets owners that can no longer be used at `generation`.
    pub fn purge(&self, generation: u64) {
        self.open.purge(generation);
        self.owners.purge(generation);
    }

    /// Files kept open (for tests).
    pub fn open_files(&self) -> usize {
        self.open.len()
    }
}
