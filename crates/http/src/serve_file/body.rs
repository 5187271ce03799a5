//! The response body: a file range in chunks at explicit offsets — as `sendfile` placeholders
//! when the connection can send the file itself and the pages are cached (`sendfile.rs`), else
//! read in [`CHUNK_SIZE`] chunks straight from the page cache on the async worker when possible
//! (`preadv2(RWF_NOWAIT)`), else on the blocking pool; a file that shrank ends the body with an
//! error.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use axum::body::Body;
use bytes::Bytes;
use futures_util::Stream;
use tokio::task::JoinHandle;

use super::CHUNK_SIZE;
use super::sendfile::{PLACEHOLDER_MAX, PLACEHOLDER_MIN, Sendfile};

/// A body streaming `len` bytes of `file` from `start`.
pub(super) fn file_body(
    file: Arc<std::fs::File>,
    start: u64,
    len: u64,
    counter: Option<Arc<AtomicU64>>,
    path: Arc<Path>,
    sendfile: Option<Sendfile>,
) -> Body {
    Body::from_stream(FileStream {
        file,
        offset: start,
        remaining: len,
        try_cached_reads: cfg!(target_os = "linux"),
        blocking_read: None,
        counter,
        path,
        finished: false,
        sendfile,
    })
}

/// The chunks of a file range, read with positional reads (`pread`), at most [`CHUNK_SIZE`]
/// bytes at a time; fails at the end if the file had fewer bytes than promised.
///
/// On Linux a chunk is first read with `preadv2(RWF_NOWAIT)`, which copies it from the page
/// cache without ever waiting for the disk, right on the async worker; only when the data is
/// not cached (or the file system does not support it) does the read go to the blocking pool.
/// This saves a thread hand-off per chunk, which is what keeps the throughput close to
/// nginx's `sendfile`.
pub(super) struct FileStream {
    pub(super) file: Arc<std::fs::File>,
    pub(super) offset: u64,
    pub(super) remaining: u64,
    pub(super) try_cached_reads: bool,
    pub(super) blocking_read: Option<JoinHandle<io::Result<Bytes>>>,
    pub(super) counter: Option<Arc<AtomicU64>>,
    pub(super) path: Arc<Path>,
    pub(super) finished: bool,
    /// Set when the connection can send the file itself: cached chunks are then placeholders.
    pub(super) sendfile: Option<Sendfile>,
}

/// A chunk read into a pooled buffer. The buffer's bytes are always initialised (zeroed once,
/// when it is made), so reusing it needs no zero-fill: that fill of 64 KiB was half of the
/// ~128k user-space instructions of a range request (callgrind; ~63k without it), though on
/// this x86 machine the CPU time per request did not measurably change (`rep stosb` is fast;
/// the time goes to the kernel). When the connection has sent the chunk and drops it, the
/// buffer goes back to its thread's pool.
#[cfg(target_os = "linux")]
struct PooledChunk {
    buffer: Box<[u8]>,
    len: usize,
}

#[cfg(target_os = "linux")]
thread_local! {
    /// Read buffers of [`CHUNK_SIZE`] bytes ready for reuse on this thread (a few: one per
    /// response in flight on this worker is the common case).
    static POOL: std::cell::RefCell<Vec<Box<[u8]>>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(target_os = "linux")]
const POOL_MAX: usize = 8;

#[cfg(target_os = "linux")]
impl PooledChunk {
    /// A buffer from this thread's pool, or a new (zeroed) one.
    fn buffer() -> Box<[u8]> {
        POOL.try_with(|pool| pool.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| vec![0u8; CHUNK_SIZE].into_boxed_slice())
    }

    /// Hands a buffer back to this thread's pool (dropped when the pool is full or the thread
    /// is ending).
    fn give_back(buffer: Box<[u8]>) {
        let _ = POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < POOL_MAX {
                pool.push(buffer);
            }
        });
    }
}

#[cfg(target_os = "linux")]
impl AsRef<[u8]> for PooledChunk {
    fn as_ref(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

#[cfg(target_os = "linux")]
impl Drop for PooledChunk {
    fn drop(&mut self) {
        PooledChunk::give_back(std::mem::take(&mut self.buffer));
    }
}

impl FileStream {
    /// The next chunk; empty at the end of the range, or at the end of the file when it shrank.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Bytes>> {
        if self.remaining == 0 {
            return Poll::Ready(Ok(Bytes::new()));
        }
        let blocking_read = match &mut self.blocking_read {
            Some(handle) => handle,
            None => {
                if let Some(placeholder) = self.placeholder() {
                    return Poll::Ready(Ok(placeholder));
                }
                let want =
                    usize::try_from(self.remaining).map_or(CHUNK_SIZE, |n| n.min(CHUNK_SIZE));
                if let Some(chunk) = self.read_cached(want)? {
                    return Poll::Ready(Ok(chunk));
                }
                let file = Arc::clone(&self.file);
                let offset = self.offset;
                self.blocking_read
                    .insert(tokio::task::spawn_blocking(move || {
                        read_at(&file, offset, want)
                    }))
            }
        };
        let joined = ready!(Pin::new(blocking_read).poll(cx));
        self.blocking_read = None;
        Poll::Ready(joined.unwrap_or_else(|err| Err(io::Error::other(err))))
    }

    /// The next chunk as a placeholder that the connection sends with `sendfile`, when it can,
    /// the chunk is large enough to gain from it, and its first and last bytes are in the page
    /// cache (so that `sendfile` does not wait for the disk on the async worker).
    fn placeholder(&self) -> Option<Bytes> {
        let sendfile = self.sendfile.as_ref()?;
        let len =
            usize::try_from(self.remaining).map_or(PLACEHOLDER_MAX, |n| n.min(PLACEHOLDER_MAX));
        if len < PLACEHOLDER_MIN {
            return None;
        }
        let last = self.offset + len as u64 - 1;
        (cached(&self.file, self.offset) && cached(&self.file, last))
            .then(|| sendfile.placeholder(&self.file, &self.path, self.offset, len))
    }

    /// Reads up to `want` bytes if they are in the page cache; `None` when the read has to wait
    /// for the disk.
    #[cfg(target_os = "linux")]
    fn read_cached(&mut self, want: usize) -> io::Result<Option<Bytes>> {
        use rustix::io::{Errno, ReadWriteFlags};
        if !self.try_cached_reads {
            return Ok(None);
        }
        let mut buffer = PooledChunk::buffer();
        let want = want.min(buffer.len());
        loop {
            let mut slices = [io::IoSliceMut::new(&mut buffer[..want])];
            match rustix::io::preadv2(
                &*self.file,
                &mut slices,
                self.offset,
                ReadWriteFlags::NOWAIT,
            ) {
                // 0 is the end of the file; let the blocking read confirm it
                Ok(0) | Err(Errno::AGAIN) => {
                    PooledChunk::give_back(buffer);
                    return Ok(None);
                }
                Ok(read) => {
                    let chunk = PooledChunk { buffer, len: read };
                    return Ok(Some(Bytes::from_owner(chunk)));
                }
                Err(Errno::INTR) => continue,
                Err(Errno::OPNOTSUPP | Errno::INVAL | Errno::NOSYS) => {
                    self.try_cached_reads = false;
                    PooledChunk::give_back(buffer);
                    return Ok(None);
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn read_cached(&mut self, _want: usize) -> io::Result<Option<Bytes>> {
        Ok(None)
    }
}

/// Whether the byte at `offset` is in the page cache (a 1-byte `preadv2(RWF_NOWAIT)`); false
/// past the end of the file.
#[cfg(target_os = "linux")]
fn cached(file: &std::fs::File, offset: u64) -> bool {
    let mut byte = [0u8; 1];
    let mut slices = [io::IoSliceMut::new(&mut byte)];
    let flags = rustix::io::ReadWriteFlags::NOWAIT;
    matches!(rustix::io::preadv2(file, &mut slices, offset, flags), Ok(1))
}

#[cfg(not(target_os = "linux"))]
fn cached(_: &std::fs::File, _: u64) -> bool {
    false
}

/// Reads up to `want` bytes at `offset` (blocking), into fresh memory that is never zeroed.
pub(super) fn read_at(file: &std::fs::File, offset: u64, want: usize) -> io::Result<Bytes> {
    let mut chunk = Vec::with_capacity(want);
    loop {
        match rustix::io::pread(file, rustix::buffer::spare_capacity(&mut chunk), offset) {
            Ok(_) => return Ok(Bytes::from(chunk)),
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

impl Stream for FileStream {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        match ready!(this.poll_chunk(cx)) {
            Ok(chunk) if chunk.is_empty() => {
                this.finished = true;
                if this.remaining == 0 {
                    return Poll::Ready(None);
                }
                tracing::warn!(
                    path = %this.path.display(),
                    missing = this.remaining,
                    "file shrank mid-response"
                );
                let message = format!(
                    "file shrank while streaming: {} bytes missing",
                    this.remaining
                );
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    message,
                ))))
            }
            Ok(chunk) => {
                let chunk_len = chunk.len() as u64;
                this.offset = this.offset.saturating_add(chunk_len);
                this.remaining = this.remaining.saturating_sub(chunk_len);
                if let Some(counter) = &this.counter {
                    counter.fetch_add(chunk_len, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Err(err) => {
                this.finished = true;
                tracing::warn!(path = %this.path.display(), error = %err, "reading file failed mid-response");
                Poll::Ready(Some(Err(err)))
            }
        }
    }
}
