//! Streams one file from disk as an HTTP response, with Range and conditional-request support.
//!
//! [`serve_file`] is shared by the stream, download, thumbnail and asset handlers. It opens the
//! file once and reads the metadata from the open handle, so a rename or replacement between the
//! checks and the read cannot mix two files ([`OpenedFile`] and [`serve_opened`] let a handler
//! do the open inside its own blocking task). The body is streamed in [`CHUNK_SIZE`] chunks read
//! at explicit offsets, straight from the page cache when possible (see `FileStream`); a file
//! truncated while it is being sent ends the body with an error (the connection is closed, the
//! client sees a short body), it never panics. An unlinked file keeps streaming from the open
//! handle.
//!
//! Responsibilities are split this way: the handler validates the name, resolves the path and
//! turns a [`ServeError`] into its JSON error (the messages differ per route); `serve_file` owns
//! every answer that needs file metadata in its headers: 200, 206, 304, and the two JSON errors
//! that carry headers or follow from validators, 416 (with `Content-Range: bytes */size`) and
//! 412.

use std::borrow::Cow;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::range::{
    Conditions, Precondition, RangeError, Validators, evaluate_preconditions, if_range_matches,
    parse_range, unsatisfied_content_range,
};
use sofathek_codes::Code;

/// The size of one read: a response holds at most this many bytes of its file in its own
/// buffer, plus what the connection has queued for the socket (hyper queues at most ~400 KiB).
pub const CHUNK_SIZE: usize = 64 * 1024;

/// How to serve one file.
#[derive(Debug, Clone)]
pub struct ServeOptions<'a> {
    /// The `Content-Type`, a MIME type literal such as `video/mp4`.
    pub content_type: &'static str,
    /// The `Cache-Control` value, if any (thumbnails: `public, max-age=86400`).
    pub cache_control: Option<&'a str>,
    /// When set, the file is sent as an attachment with this name (`Content-Disposition`).
    pub attachment_filename: Option<&'a str>,
    /// Whether `Range` and `If-Range` are honoured (`Accept-Ranges: bytes`); when false they are
    /// ignored and `Accept-Ranges: none` is sent.
    pub ranges: bool,
    /// Files larger than this are refused with [`ServeError::TooLarge`] (thumbnails).
    pub max_size: Option<u64>,
    /// Incremented by the size of every body chunk as it is handed to the connection, so the
    /// metrics can count bytes streamed. HEAD and 304 answers add nothing.
    pub bytes_counter: Option<Arc<AtomicU64>>,
}

impl<'a> ServeOptions<'a> {
    /// Inline content with Range support, no caching header, no size limit, no byte counter.
    pub fn new(content_type: &'static str) -> ServeOptions<'a> {
        ServeOptions {
            content_type,
            cache_control: None,
            attachment_filename: None,
            ranges: true,
            max_size: None,
            bytes_counter: None,
        }
    }

    pub fn cache_control(mut self, value: &'a str) -> ServeOptions<'a> {
        self.cache_control = Some(value);
        self
    }

    pub fn attachment(mut self, filename: &'a str) -> ServeOptions<'a> {
        self.attachment_filename = Some(filename);
        self
    }

    pub fn without_ranges(mut self) -> ServeOptions<'a> {
        self.ranges = false;
        self
    }

    pub fn max_size(mut self, max: u64) -> ServeOptions<'a> {
        self.max_size = Some(max);
        self
    }

    pub fn count_bytes(mut self, counter: Arc<AtomicU64>) -> ServeOptions<'a> {
        self.bytes_counter = Some(counter);
        self
    }
}

/// Why a file could not be served; the handler chooses the status and message.
#[derive(Debug)]
pub enum ServeError {
    /// No such file (also a missing parent or a path through a regular file): 404.
    NotFound,
    /// The path exists but is not a regular file (a directory named `x.mp4`, a FIFO): 404, or
    /// the thumbnail route's `Thumbnail '<f>' is not a file`.
    NotAFile,
    /// EACCES/EPERM when opening: 403 on the thumbnail route, 404 on the others.
    PermissionDenied,
    /// Larger than [`ServeOptions::max_size`]: 413.
    TooLarge { size: u64, max: u64 },
    /// A `Range` header that is not a valid byte-range set: 400 `Invalid range header format`.
    MalformedRange,
    /// Any other failure to open or inspect the file: 500.
    Io(io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::NotFound => f.write_str("file not found"),
            ServeError::NotAFile => f.write_str("not a regular file"),
            ServeError::PermissionDenied => f.write_str("permission denied"),
            ServeError::TooLarge { size, max } => {
                write!(f, "file too large: {size} bytes (max: {max})")
            }
            ServeError::MalformedRange => f.write_str("invalid range header format"),
            ServeError::Io(err) => write!(f, "cannot read file: {err}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Io(err) => Some(err),
            _ => None,
        }
    }
}

/// Answers a GET or HEAD request for the file at `path`.
///
/// Evaluates the preconditions (304/412), then `If-Range` and `Range` (GET only, as RFC 9110
/// requires), and answers 200 or 206 with `Accept-Ranges`, `Content-Length`, `Content-Type`,
/// `ETag` and `Last-Modified`; HEAD gets the same headers without a body. An unsatisfiable range
/// is answered here with 416, `Content-Range: bytes */<size>` and the JSON body
/// `{"status":"error","message":"Range not satisfiable","code":Code::RangeNotSatisfiable}`, since
/// the handler would need the size to build it; a failed `If-Match`/`If-Unmodified-Since` is
/// answered with a 412 JSON error the same way. Everything else that is not a success is a
/// [`ServeError`].
pub async fn serve_file(
    method: &Method,
    headers: &HeaderMap,
    path: &Path,
    options: ServeOptions<'_>,
) -> Result<Response, ServeError> {
    let opened = match OpenedFile::open_no_wait(path) {
        Some(opened) => opened,
        None => {
            let owned_path = path.to_path_buf();
            tokio::task::spawn_blocking(move || OpenedFile::open(owned_path))
                .await
                .map_err(|err| ServeError::Io(io::Error::other(err)))??
        }
    };
    serve_opened(method, headers, opened, options)
}

/// A regular file opened for reading, with the metadata of the open handle.
///
/// A clone shares the open handle (reads are positional, so responses sharing it do not
/// disturb each other); see [`OpenedFile::reuse`].
#[derive(Debug, Clone)]
pub struct OpenedFile {
    file: Arc<std::fs::File>,
    metadata: std::fs::Metadata,
    path: Arc<Path>,
}

impl OpenedFile {
    /// Opens `path` for reading; anything but a regular file is [`ServeError::NotAFile`].
    ///
    /// This blocks: call it on the blocking pool, for example in the same `spawn_blocking` as
    /// other file-system checks of a handler, then answer with [`serve_opened`]. `O_NONBLOCK`
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
    fn open_no_wait(path: &Path) -> Option<OpenedFile> {
        let file = sofathek_core::library::open_no_wait_at(
            rustix::fs::CWD,
            path,
            rustix::fs::ResolveFlags::empty(),
        )?;
        OpenedFile::from_open(file, path.to_path_buf()).ok()
    }

    #[cfg(not(target_os = "linux"))]
    fn open_no_wait(_path: &Path) -> Option<OpenedFile> {
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

/// [`serve_file`] for a file the caller has already opened; it does no blocking I/O (the body
/// reads the file lazily).
pub fn serve_opened(
    method: &Method,
    headers: &HeaderMap,
    opened: OpenedFile,
    options: ServeOptions<'_>,
) -> Result<Response, ServeError> {
    let OpenedFile {
        file,
        metadata,
        path,
    } = opened;
    let size = metadata.len();
    if let Some(max) = options.max_size {
        if size > max {
            return Err(ServeError::TooLarge { size, max });
        }
    }
    let validators = Validators::new(size, metadata.modified().ok());

    let if_match = list_header(headers, &header::IF_MATCH);
    let if_none_match = list_header(headers, &header::IF_NONE_MATCH);
    let conditions = Conditions {
        if_match: if_match.as_deref(),
        if_unmodified_since: single_header(headers, &header::IF_UNMODIFIED_SINCE),
        if_none_match: if_none_match.as_deref(),
        if_modified_since: single_header(headers, &header::IF_MODIFIED_SINCE),
    };
    match evaluate_preconditions(method, &conditions, &validators) {
        Precondition::Proceed => {}
        Precondition::NotModified => return Ok(not_modified(&validators, &options)),
        Precondition::Failed => {
            return Ok(
                ApiError::new(StatusCode::PRECONDITION_FAILED, "Precondition failed")
                    .with_code(Code::PreconditionFailed)
                    .into_response(),
            );
        }
    }

    let range = match requested_range(method, headers, &validators, options.ranges) {
        None => None,
        Some(value) => match parse_range(value, size) {
            Ok(range) => Some(range),
            Err(RangeError::Malformed) => return Err(ServeError::MalformedRange),
            Err(RangeError::Unsatisfiable) => return Ok(range_not_satisfiable(size)),
        },
    };

    let (status, start, len) = match range {
        Some(range) => (StatusCode::PARTIAL_CONTENT, range.start, range.byte_count()),
        None => (StatusCode::OK, 0, size),
    };
    let body = if *method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        file_body(file, start, len, options.bytes_counter.clone(), path)
    };

    let mut response = Response::new(body);
    *response.status_mut() = status;
    let response_headers = response.headers_mut();
    insert_validators(response_headers, &validators, &options);
    response_headers.insert(
        header::CONTENT_TYPE,
        content_type_value(options.content_type),
    );
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Some(filename) = options.attachment_filename {
        insert_string(
            response_headers,
            header::CONTENT_DISPOSITION,
            content_disposition(filename),
        );
    }
    if let Some(range) = range {
        insert_string(
            response_headers,
            header::CONTENT_RANGE,
            range.content_range(size),
        );
    }
    Ok(response)
}

/// The `Content-Disposition` value for an attachment: an ASCII `filename` (non-ASCII
/// characters, controls, `"` and `\` replaced by `_`) and the exact name as RFC 8187
/// `filename*=UTF-8''<percent-encoded>`.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let encoded = utf8_percent_encode(filename, NOT_ATTR_CHAR);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Every byte except RFC 8187 `attr-char`, which is ALPHA / DIGIT and these marks.
const NOT_ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Classifies an error from opening a file.
fn open_error(err: io::Error) -> ServeError {
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => ServeError::NotFound,
        io::ErrorKind::PermissionDenied => ServeError::PermissionDenied,
        _ if rustix::io::Errno::from_io_error(&err) == Some(rustix::io::Errno::NAMETOOLONG) => {
            ServeError::NotFound
        }
        _ => ServeError::Io(err),
    }
}

/// The `Range` value to honour: only for GET, only when ranges are enabled, and only when an
/// `If-Range` (if any) still matches. A repeated or unreadable `Range` is returned as `""`,
/// which parses as malformed.
fn requested_range<'h>(
    method: &Method,
    headers: &'h HeaderMap,
    validators: &Validators,
    ranges: bool,
) -> Option<&'h str> {
    if !ranges || *method != Method::GET {
        return None;
    }
    let range = single_header(headers, &header::RANGE)?;
    match single_header(headers, &header::IF_RANGE) {
        Some(if_range) if !if_range_matches(if_range, validators) => None,
        _ => Some(range),
    }
}

/// A header that holds one value; `Some("")` (which matches and parses as nothing) when it is
/// repeated or not visible ASCII.
fn single_header<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return Some("");
    }
    Some(first.to_str().unwrap_or(""))
}

/// A list header, its lines joined with `, `; an unreadable line reads as `""`.
fn list_header<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<Cow<'h, str>> {
    let mut values = headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().unwrap_or(""));
    let first = values.next()?;
    let mut joined = Cow::Borrowed(first);
    for value in values {
        let line = joined.to_mut();
        line.push_str(", ");
        line.push_str(value);
    }
    Some(joined)
}

fn content_type_value(content_type: &'static str) -> HeaderValue {
    HeaderValue::from_str(content_type).unwrap_or_else(|_| {
        tracing::error!(
            content_type,
            "invalid content type, sending application/octet-stream"
        );
        HeaderValue::from_static("application/octet-stream")
    })
}

/// Inserts a header whose value is built here and always valid; an invalid one is dropped.
fn insert_string(headers: &mut HeaderMap, name: HeaderName, value: String) {
    match HeaderValue::try_from(value) {
        Ok(value) => {
            headers.insert(name, value);
        }
        Err(_) => tracing::error!(header = %name, "invalid header value dropped"),
    }
}

/// The headers shared by 200, 206 and 304: `Accept-Ranges`, `ETag`, `Last-Modified`,
/// `Cache-Control`.
fn insert_validators(headers: &mut HeaderMap, validators: &Validators, options: &ServeOptions) {
    let accept_ranges = if options.ranges { "bytes" } else { "none" };
    headers.insert(
        header::ACCEPT_RANGES,
        HeaderValue::from_static(accept_ranges),
    );
    insert_string(headers, header::ETAG, validators.etag.clone());
    if let Some(last_modified) = validators.last_modified_header() {
        insert_string(headers, header::LAST_MODIFIED, last_modified);
    }
    if let Some(cache_control) = options.cache_control {
        insert_string(headers, header::CACHE_CONTROL, cache_control.to_owned());
    }
}

fn not_modified(validators: &Validators, options: &ServeOptions) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    insert_validators(response.headers_mut(), validators, options);
    response
}

fn range_not_satisfiable(size: u64) -> Response {
    let mut response = ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "Range not satisfiable")
        .with_code(Code::RangeNotSatisfiable)
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    insert_string(
        headers,
        header::CONTENT_RANGE,
        unsatisfied_content_range(size),
    );
    response
}

/// A body streaming `len` bytes of `file` from `start`.
fn file_body(
    file: Arc<std::fs::File>,
    start: u64,
    len: u64,
    counter: Option<Arc<AtomicU64>>,
    path: Arc<Path>,
) -> Body {
    Body::from_stream(FileStream {
        file,
        offset: start,
        remaining: len,
        buffer: SPARE_BUFFER
            .try_with(std::cell::Cell::take)
            .ok()
            .flatten()
            .unwrap_or_default(),
        try_cached_reads: cfg!(target_os = "linux"),
        blocking_read: None,
        counter,
        path,
        finished: false,
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
struct FileStream {
    file: Arc<std::fs::File>,
    offset: u64,
    remaining: u64,
    /// Reused for cached reads when the connection has released the previous chunk.
    buffer: BytesMut,
    try_cached_reads: bool,
    blocking_read: Option<JoinHandle<io::Result<Bytes>>>,
    counter: Option<Arc<AtomicU64>>,
    path: Arc<Path>,
    finished: bool,
}

thread_local! {
    /// The read buffer of the last stream that ended on this thread. The next stream starts
    /// with it, and its first read reuses the memory if the connection has sent (and dropped)
    /// the chunks read into it: short range requests then do not allocate and free a
    /// [`CHUNK_SIZE`] buffer each.
    static SPARE_BUFFER: std::cell::Cell<Option<BytesMut>> = const { std::cell::Cell::new(None) };
}

impl Drop for FileStream {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        // During thread teardown there is nothing to hand it to.
        let _ = SPARE_BUFFER.try_with(|spare| spare.set(Some(buffer)));
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

    /// Reads up to `want` bytes if they are in the page cache; `None` when the read has to wait
    /// for the disk.
    #[cfg(target_os = "linux")]
    fn read_cached(&mut self, want: usize) -> io::Result<Option<Bytes>> {
        use rustix::io::{Errno, ReadWriteFlags};
        if !self.try_cached_reads {
            return Ok(None);
        }
        self.buffer.clear();
        self.buffer.resize(want, 0);
        loop {
            let mut slices = [io::IoSliceMut::new(&mut self.buffer)];
            match rustix::io::preadv2(
                &*self.file,
                &mut slices,
                self.offset,
                ReadWriteFlags::NOWAIT,
            ) {
                // 0 is the end of the file; let the blocking read confirm it
                Ok(0) | Err(Errno::AGAIN) => return Ok(None),
                Ok(read) => {
                    self.buffer.truncate(read);
                    return Ok(Some(self.buffer.split().freeze()));
                }
                Err(Errno::INTR) => continue,
                Err(Errno::OPNOTSUPP | Errno::INVAL | Errno::NOSYS) => {
                    self.try_cached_reads = false;
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

/// Reads up to `want` bytes at `offset` (blocking), into fresh memory that is never zeroed.
fn read_at(file: &std::fs::File, offset: u64, want: usize) -> io::Result<Bytes> {
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

/// Encodes a file name for use in a URL path segment (JavaScript's `encodeURIComponent`).
pub fn encode_name(name: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    utf8_percent_encode(name, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::time::{Duration, UNIX_EPOCH};

    /// Deterministic file content: byte `i` is `i % 251`.
    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        path: PathBuf,
        content: Vec<u8>,
        validators: Validators,
    }

    fn fixture(len: usize) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("Family – Trip.mp4");
        let content = content(len);
        std::fs::write(&path, &content).expect("write fixture");
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        let validators = Validators::new(len as u64, Some(modified));
        Fixture {
            _dir: dir,
            path,
            content,
            validators,
        }
    }

    fn request_headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, HeaderValue::from_str(value).expect("header value"));
        }
        headers
    }

    async fn body_bytes(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec()
    }

    fn header<'r>(response: &'r Response, name: &HeaderName) -> Option<&'r str> {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ascii header"))
    }

    /// What a case expects: status, body (`None`: the 416/412 JSON check is done separately),
    /// and header values (`None`: the header must be absent).
    struct Expected<'a> {
        status: u16,
        body: Option<&'a [u8]>,
        headers: Vec<(HeaderName, Option<&'a str>)>,
    }

    async fn check(
        fixture: &Fixture,
        method: Method,
        pairs: &[(HeaderName, &str)],
        options: ServeOptions<'_>,
        expected: Expected<'_>,
    ) {
        let label = format!("{method} {pairs:?}");
        let response = serve_file(&method, &request_headers(pairs), &fixture.path, options)
            .await
            .unwrap_or_else(|err| panic!("{label}: unexpected error {err}"));
        assert_eq!(
            response.status().as_u16(),
            expected.status,
            "{label}: status"
        );
        for (name, value) in &expected.headers {
            assert_eq!(header(&response, name), *value, "{label}: header {name}");
        }
        let body = body_bytes(response).await;
        if let Some(expected_body) = expected.body {
            assert!(
                body == expected_body,
                "{label}: body of {} bytes differs",
                body.len()
            );
        }
    }

    #[tokio::test]
    async fn answers_full_partial_and_conditional_requests() {
        let fx = fixture(1000);
        let etag = fx.validators.etag.as_str();
        let last_modified = fx.validators.last_modified_header().expect("last modified");
        let modified_secs = fx.validators.last_modified.expect("mtime");
        let date = |secs: u64| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
        let earlier = date(modified_secs - 1);
        let later = date(modified_secs + 1);
        let all = &fx.content[..];
        let full = |status| Expected {
            status,
            body: Some(all),
            headers: vec![
                (header::CONTENT_LENGTH, Some("1000")),
                (header::CONTENT_RANGE, None),
                (header::ACCEPT_RANGES, Some("bytes")),
            ],
        };
        let partial = |start: usize, end: usize, content_range| Expected {
            status: 206,
            body: Some(&all[start..=end]),
            headers: vec![
                (header::CONTENT_RANGE, Some(content_range)),
                (header::ACCEPT_RANGES, Some("bytes")),
            ],
        };
        let not_modified = || Expected {
            status: 304,
            body: Some(b""),
            headers: vec![
                (header::ETAG, Some(etag)),
                (header::LAST_MODIFIED, Some(last_modified.as_str())),
                (header::CONTENT_LENGTH, None),
            ],
        };
        let unsatisfiable = Expected {
            status: 416,
            body: None,
            headers: vec![(header::CONTENT_RANGE, Some("bytes */1000"))],
        };
        let options = || ServeOptions::new("video/mp4");
        use header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, RANGE};
        type Case<'a> = (Method, Vec<(HeaderName, &'a str)>, Expected<'a>);
        let cases: Vec<Case<'_>> = vec![
            (
                Method::GET,
                vec![],
                Expected {
                    status: 200,
                    body: Some(all),
                    headers: vec![
                        (header::CONTENT_LENGTH, Some("1000")),
                        (header::CONTENT_TYPE, Some("video/mp4")),
                        (header::ACCEPT_RANGES, Some("bytes")),
                        (header::ETAG, Some(etag)),
                        (header::LAST_MODIFIED, Some(last_modified.as_str())),
                        (header::CACHE_CONTROL, None),
                        (header::CONTENT_DISPOSITION, None),
                    ],
                },
            ),
            (
                Method::HEAD,
                vec![],
                Expected {
                    status: 200,
                    body: Some(b""),
                    headers: vec![
                        (header::CONTENT_LENGTH, Some("1000")),
                        (header::CONTENT_TYPE, Some("video/mp4")),
                        (header::ETAG, Some(etag)),
                    ],
                },
            ),
            // Range is defined for GET only
            (
                Method::HEAD,
                vec![(RANGE, "bytes=0-9")],
                Expected {
                    body: Some(b""),
                    ..full(200)
                },
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=0-99")],
                partial(0, 99, "bytes 0-99/1000"),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=0-0")],
                partial(0, 0, "bytes 0-0/1000"),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=900-")],
                partial(900, 999, "bytes 900-999/1000"),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=-100")],
                partial(900, 999, "bytes 900-999/1000"),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=-5000")],
                partial(0, 999, "bytes 0-999/1000"),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=990-5000")],
                partial(990, 999, "bytes 990-999/1000"),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=10-19, 50-59")],
                partial(10, 19, "bytes 10-19/1000"),
            ),
            (Method::GET, vec![(RANGE, "bytes=1000-")], unsatisfiable),
            (
                Method::GET,
                vec![(RANGE, "bytes=-0")],
                Expected {
                    status: 416,
                    body: None,
                    headers: vec![(header::CONTENT_RANGE, Some("bytes */1000"))],
                },
            ),
            // conditional requests
            (Method::GET, vec![(IF_NONE_MATCH, etag)], not_modified()),
            (Method::HEAD, vec![(IF_NONE_MATCH, etag)], not_modified()),
            (
                Method::GET,
                vec![(IF_NONE_MATCH, "\"other\", W/\"x\"")],
                full(200),
            ),
            (
                Method::GET,
                vec![(IF_NONE_MATCH, "\"other\""), (IF_NONE_MATCH, etag)],
                not_modified(),
            ),
            (Method::GET, vec![(IF_NONE_MATCH, "*")], not_modified()),
            (
                Method::GET,
                vec![(IF_MODIFIED_SINCE, last_modified.as_str())],
                not_modified(),
            ),
            (
                Method::GET,
                vec![(IF_MODIFIED_SINCE, later.as_str())],
                not_modified(),
            ),
            (
                Method::GET,
                vec![(IF_MODIFIED_SINCE, earlier.as_str())],
                full(200),
            ),
            (
                Method::GET,
                vec![
                    (IF_NONE_MATCH, "\"other\""),
                    (IF_MODIFIED_SINCE, later.as_str()),
                ],
                full(200),
            ),
            // a 304 wins over a range, even a malformed one
            (
                Method::GET,
                vec![(IF_NONE_MATCH, etag), (RANGE, "bytes=oops")],
                not_modified(),
            ),
            // If-Range
            (
                Method::GET,
                vec![(RANGE, "bytes=0-9"), (IF_RANGE, etag)],
                partial(0, 9, "bytes 0-9/1000"),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=0-9"), (IF_RANGE, last_modified.as_str())],
                partial(0, 9, "bytes 0-9/1000"),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=0-9"), (IF_RANGE, "\"stale\"")],
                full(200),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=0-9"), (IF_RANGE, earlier.as_str())],
                full(200),
            ),
            (
                Method::GET,
                vec![(RANGE, "bytes=oops"), (IF_RANGE, "\"stale\"")],
                full(200),
            ),
            (Method::GET, vec![(IF_RANGE, "\"stale\"")], full(200)),
            // If-Match
            (Method::GET, vec![(IF_MATCH, etag)], full(200)),
            (
                Method::GET,
                vec![(IF_MATCH, "\"other\"")],
                Expected {
                    status: 412,
                    body: None,
                    headers: vec![],
                },
            ),
        ];
        for (method, pairs, expected) in cases {
            check(&fx, method, &pairs, options(), expected).await;
        }
    }

    #[tokio::test]
    async fn error_bodies_are_json() {
        let fx = fixture(1000);
        let headers = request_headers(&[(header::RANGE, "bytes=5000-")]);
        let options = ServeOptions::new("video/mp4");
        let response = serve_file(&Method::GET, &headers, &fx.path, options)
            .await
            .expect("416");
        assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(
            header(&response, &header::CONTENT_TYPE),
            Some("application/json")
        );
        let body: serde_json::Value =
            serde_json::from_slice(&body_bytes(response).await).expect("json body");
        assert_eq!(body["status"], "error");
        assert_eq!(body["message"], "Range not satisfiable");

        let headers = request_headers(&[(header::IF_MATCH, "\"other\"")]);
        let options = ServeOptions::new("video/mp4");
        let response = serve_file(&Method::GET, &headers, &fx.path, options)
            .await
            .expect("412");
        let body: serde_json::Value =
            serde_json::from_slice(&body_bytes(response).await).expect("json body");
        assert_eq!(body["message"], "Precondition failed");
    }

    #[tokio::test]
    async fn malformed_ranges_are_errors() {
        let fx = fixture(1000);
        for value in ["bytes=-", "bytes=abc-", "bytes=5-3", "items=0-5", ""] {
            let headers = request_headers(&[(header::RANGE, value)]);
            let result = serve_file(
                &Method::GET,
                &headers,
                &fx.path,
                ServeOptions::new("video/mp4"),
            )
            .await;
            assert!(
                matches!(result, Err(ServeError::MalformedRange)),
                "Range: {value:?}"
            );
        }
        let headers =
            request_headers(&[(header::RANGE, "bytes=0-1"), (header::RANGE, "bytes=2-3")]);
        let result = serve_file(
            &Method::GET,
            &headers,
            &fx.path,
            ServeOptions::new("video/mp4"),
        )
        .await;
        assert!(
            matches!(result, Err(ServeError::MalformedRange)),
            "repeated Range"
        );
    }

    #[tokio::test]
    async fn applies_options() {
        let fx = fixture(100);
        let options = ServeOptions::new("audio/mpeg")
            .attachment("Family – Trip \"2024\".mp3")
            .cache_control("public, max-age=86400");
        let expected = Expected {
            status: 200,
            body: Some(&fx.content),
            headers: vec![
                (header::CONTENT_TYPE, Some("audio/mpeg")),
                (header::CACHE_CONTROL, Some("public, max-age=86400")),
                (
                    header::CONTENT_DISPOSITION,
                    Some(
                        "attachment; filename=\"Family _ Trip _2024_.mp3\"; \
                         filename*=UTF-8''Family%20%E2%80%93%20Trip%20%222024%22.mp3",
                    ),
                ),
            ],
        };
        check(&fx, Method::GET, &[], options, expected).await;

        // downloads keep Range support
        let options = ServeOptions::new("audio/mpeg").attachment("a.mp3");
        let expected = Expected {
            status: 206,
            body: Some(&fx.content[..10]),
            headers: vec![(
                header::CONTENT_DISPOSITION,
                Some("attachment; filename=\"a.mp3\"; filename*=UTF-8''a.mp3"),
            )],
        };
        check(
            &fx,
            Method::GET,
            &[(header::RANGE, "bytes=0-9")],
            options,
            expected,
        )
        .await;

        let options = ServeOptions::new("video/mp4").without_ranges();
        let expected = Expected {
            status: 200,
            body: Some(&fx.content),
            headers: vec![
                (header::ACCEPT_RANGES, Some("none")),
                (header::CONTENT_RANGE, None),
            ],
        };
        check(
            &fx,
            Method::GET,
            &[(header::RANGE, "bytes=0-9")],
            options,
            expected,
        )
        .await;

        let options = ServeOptions::new("image/jpeg").max_size(100);
        let expected = Expected {
            status: 200,
            body: Some(&fx.content),
            headers: vec![],
        };
        check(&fx, Method::GET, &[], options, expected).await;
        let result = serve_file(
            &Method::GET,
            &HeaderMap::new(),
            &fx.path,
            ServeOptions::new("image/jpeg").max_size(99),
        )
        .await;
        assert!(
            matches!(result, Err(ServeError::TooLarge { size: 100, max: 99 })),
            "{result:?}"
        );
    }

    #[test]
    fn builds_content_disposition() {
        let cases = [
            (
                "plain.mp4",
                "attachment; filename=\"plain.mp4\"; filename*=UTF-8''plain.mp4",
            ),
            (
                "Tom—Jerry.mp4",
                "attachment; filename=\"Tom_Jerry.mp4\"; filename*=UTF-8''Tom%E2%80%94Jerry.mp4",
            ),
            (
                "a\\b\"c\u{1}.srt",
                "attachment; filename=\"a_b_c_.srt\"; filename*=UTF-8''a%5Cb%22c%01.srt",
            ),
            (
                "x!#$&+-.^_`|~(y)*'z",
                "attachment; filename=\"x!#$&+-.^_`|~(y)*'z\"; filename*=UTF-8''x!#$&+-.^_`|~%28y%29%2A%27z",
            ),
            (
                "日本.mkv",
                "attachment; filename=\"__.mkv\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.mkv",
            ),
        ];
        for (filename, expected) in cases {
            let value = content_disposition(filename);
            assert_eq!(value, expected, "content_disposition({filename:?})");
            assert!(
                HeaderValue::from_str(&value).is_ok(),
                "valid header for {filename:?}"
            );
        }
    }

    #[tokio::test]
    async fn serves_a_file_opened_by_the_caller() {
        let fx = fixture(500);
        let opened = tokio::task::spawn_blocking({
            let path = fx.path.clone();
            move || OpenedFile::open(path)
        })
        .await
        .expect("join")
        .expect("open");
        assert_eq!(opened.size(), 500);
        let headers = request_headers(&[(header::RANGE, "bytes=-10")]);
        let response = serve_opened(
            &Method::GET,
            &headers,
            opened,
            ServeOptions::new("video/mp4"),
        )
        .expect("206");
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(body_bytes(response).await, &fx.content[490..]);
    }

    #[test]
    fn cached_open_falls_back_on_anything_unusual() {
        let fx = fixture(10);
        let dir = fx.path.parent().expect("parent");
        assert!(OpenedFile::open_no_wait(dir).is_none(), "a directory");
        assert!(
            OpenedFile::open_no_wait(&dir.join("missing")).is_none(),
            "a missing file"
        );
        // Some where the kernel allows RESOLVE_CACHED, None elsewhere; never a wrong file
        if let Some(opened) = OpenedFile::open_no_wait(&fx.path) {
            assert_eq!(opened.size(), 10);
        }
    }

    #[tokio::test]
    async fn empty_files() {
        let fx = fixture(0);
        let expected = Expected {
            status: 200,
            body: Some(b""),
            headers: vec![(header::CONTENT_LENGTH, Some("0"))],
        };
        check(
            &fx,
            Method::GET,
            &[],
            ServeOptions::new("video/mp4"),
            expected,
        )
        .await;
        let expected = Expected {
            status: 416,
            body: None,
            headers: vec![(header::CONTENT_RANGE, Some("bytes */0"))],
        };
        let range = [(header::RANGE, "bytes=0-")];
        check(
            &fx,
            Method::GET,
            &range,
            ServeOptions::new("video/mp4"),
            expected,
        )
        .await;
    }

    #[tokio::test]
    async fn refuses_what_is_not_a_readable_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let directory = dir.path().join("folder.mp4");
        std::fs::create_dir(&directory).expect("mkdir");
        let regular = dir.path().join("clip.mp4");
        std::fs::write(&regular, b"x").expect("write");
        let fifo = dir.path().join("pipe.mp4");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .expect("mkfifo");
        let long_name = dir.path().join("x".repeat(300));

        let cases: Vec<(PathBuf, &str)> = vec![
            (dir.path().join("missing.mp4"), "NotFound"),
            (dir.path().join("missing/clip.mp4"), "NotFound"),
            (regular.join("inside.mp4"), "NotFound"),
            (long_name, "NotFound"),
            (directory, "NotAFile"),
            (fifo, "NotAFile"),
        ];
        for (path, expected) in cases {
            let result = tokio::time::timeout(
                Duration::from_secs(5),
                serve_file(
                    &Method::GET,
                    &HeaderMap::new(),
                    &path,
                    ServeOptions::new("video/mp4"),
                ),
            )
            .await
            .expect("opening must not hang");
            let actual = match result {
                Err(ServeError::NotFound) => "NotFound",
                Err(ServeError::NotAFile) => "NotAFile",
                other => panic!("{}: unexpected {other:?}", path.display()),
            };
            assert_eq!(actual, expected, "{}", path.display());
        }
    }

    #[test]
    fn classifies_open_errors() {
        let check = |err: io::Error, expected: &str| {
            let actual = match open_error(err) {
                ServeError::NotFound => "NotFound",
                ServeError::PermissionDenied => "PermissionDenied",
                ServeError::Io(_) => "Io",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(actual, expected);
        };
        check(io::Error::from(io::ErrorKind::NotFound), "NotFound");
        check(io::Error::from(io::ErrorKind::NotADirectory), "NotFound");
        check(
            io::Error::from_raw_os_error(rustix::io::Errno::NAMETOOLONG.raw_os_error()),
            "NotFound",
        );
        check(
            io::Error::from(io::ErrorKind::PermissionDenied),
            "PermissionDenied",
        );
        check(
            io::Error::from_raw_os_error(rustix::io::Errno::PERM.raw_os_error()),
            "PermissionDenied",
        );
        check(
            io::Error::from_raw_os_error(rustix::io::Errno::IO.raw_os_error()),
            "Io",
        );
        check(
            io::Error::from_raw_os_error(rustix::io::Errno::LOOP.raw_os_error()),
            "Io",
        );
    }

    #[test]
    fn error_messages_are_lowercase() {
        let errors = [
            ServeError::NotFound,
            ServeError::NotAFile,
            ServeError::PermissionDenied,
            ServeError::TooLarge { size: 2, max: 1 },
            ServeError::MalformedRange,
            ServeError::Io(io::Error::other("disk on fire")),
        ];
        for err in errors {
            let message = err.to_string();
            assert!(message.starts_with(|c: char| c.is_lowercase()), "{message}");
            assert!(!message.ends_with('.'), "{message}");
        }
    }

    #[tokio::test]
    async fn counts_streamed_bytes() {
        let fx = fixture(300_000);
        let counter = Arc::new(AtomicU64::new(0));
        let options = ServeOptions::new("video/mp4").count_bytes(counter.clone());
        let response = serve_file(&Method::GET, &HeaderMap::new(), &fx.path, options)
            .await
            .expect("200");
        assert_eq!(body_bytes(response).await.len(), 300_000);
        assert_eq!(counter.load(Ordering::Relaxed), 300_000);

        let options = ServeOptions::new("video/mp4").count_bytes(counter.clone());
        let headers = request_headers(&[(header::RANGE, "bytes=-1000")]);
        let response = serve_file(&Method::GET, &headers, &fx.path, options)
            .await
            .expect("206");
        assert_eq!(body_bytes(response).await, &fx.content[299_000..]);
        assert_eq!(counter.load(Ordering::Relaxed), 301_000);

        let options = ServeOptions::new("video/mp4").count_bytes(counter.clone());
        let response = serve_file(&Method::HEAD, &HeaderMap::new(), &fx.path, options)
            .await
            .expect("head");
        assert_eq!(body_bytes(response).await.len(), 0);
        assert_eq!(counter.load(Ordering::Relaxed), 301_000);
    }

    #[tokio::test]
    async fn streams_in_bounded_chunks() {
        let fx = fixture(CHUNK_SIZE * 3 + 10);
        let response = serve_file(
            &Method::GET,
            &HeaderMap::new(),
            &fx.path,
            ServeOptions::new("video/mp4"),
        )
        .await
        .expect("200");
        let mut chunks = response.into_body().into_data_stream();
        let mut received = Vec::new();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.expect("chunk");
            assert!(chunk.len() <= CHUNK_SIZE, "chunk of {} bytes", chunk.len());
            received.extend_from_slice(&chunk);
        }
        assert!(received == fx.content, "streamed body differs");
    }

    #[tokio::test]
    async fn truncated_file_ends_the_body_with_an_error() {
        let fx = fixture(CHUNK_SIZE * 8);
        let response = serve_file(
            &Method::GET,
            &HeaderMap::new(),
            &fx.path,
            ServeOptions::new("video/mp4"),
        )
        .await
        .expect("200");
        let mut chunks = response.into_body().into_data_stream();
        let first = chunks.next().await.expect("first chunk").expect("readable");
        let truncated = std::fs::OpenOptions::new()
            .write(true)
            .open(&fx.path)
            .expect("reopen");
        truncated
            .set_len((CHUNK_SIZE + 100) as u64)
            .expect("truncate");
        let mut received = first.len();
        let mut failed = false;
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(chunk) => received += chunk.len(),
                Err(err) => {
                    assert!(err.to_string().contains("file shrank"), "{err}");
                    failed = true;
                }
            }
        }
        assert!(failed, "a short body must end with an error");
        assert!(received < fx.content.len(), "received {received} bytes");
    }

    /// Reads `len` bytes from `offset` with or without page-cache reads; the error of a short
    /// file, if any, is returned after the bytes.
    async fn read_stream(
        path: &Path,
        offset: u64,
        len: u64,
        cached_reads: bool,
    ) -> (Vec<u8>, Option<io::Error>) {
        let file = std::fs::File::open(path).expect("open");
        let mut stream = FileStream {
            file: Arc::new(file),
            offset,
            remaining: len,
            buffer: BytesMut::new(),
            try_cached_reads: cached_reads,
            blocking_read: None,
            counter: None,
            path: path.into(),
            finished: false,
        };
        let mut received = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => received.extend_from_slice(&chunk),
                Err(err) => return (received, Some(err)),
            }
        }
        (received, None)
    }

    #[tokio::test]
    async fn cached_and_blocking_reads_agree() {
        let fx = fixture(CHUNK_SIZE * 2 + 123);
        let len = fx.content.len() as u64;
        // (offset, length, bytes expected, short file)
        let cases: [(u64, u64, &[u8], bool); 5] = [
            (0, len, &fx.content, false),
            (10, len - 10, &fx.content[10..], false),
            (len - 1, 1, &fx.content[fx.content.len() - 1..], false),
            (100, 50, &fx.content[100..150], false),
            (len - 10, 20, &fx.content[fx.content.len() - 10..], true),
        ];
        for cached_reads in [false, true] {
            for (offset, length, expected, short) in cases {
                let (received, err) = read_stream(&fx.path, offset, length, cached_reads).await;
                let label = format!("offset {offset}, length {length}, cached {cached_reads}");
                assert!(
                    received == expected,
                    "{label}: {} bytes differ",
                    received.len()
                );
                assert_eq!(err.is_some(), short, "{label}: {err:?}");
            }
        }
    }

    #[tokio::test]
    async fn deleted_file_keeps_streaming_from_the_open_handle() {
        let fx = fixture(CHUNK_SIZE * 4);
        let response = serve_file(
            &Method::GET,
            &HeaderMap::new(),
            &fx.path,
            ServeOptions::new("video/mp4"),
        )
        .await
        .expect("200");
        std::fs::remove_file(&fx.path).expect("delete");
        assert!(
            body_bytes(response).await == fx.content,
            "body of the deleted file differs"
        );
    }

    #[tokio::test]
    async fn renamed_file_is_served_from_the_open_handle() {
        let fx = fixture(1000);
        let response = serve_file(
            &Method::GET,
            &HeaderMap::new(),
            &fx.path,
            ServeOptions::new("video/mp4"),
        )
        .await
        .expect("200");
        let replacement = fx.path.with_extension("tmp");
        std::fs::write(&replacement, b"replaced").expect("write replacement");
        std::fs::rename(&replacement, &fx.path).expect("rename over");
        assert!(
            body_bytes(response).await == fx.content,
            "body must come from the first file"
        );
    }

    /// Through a real server: HEAD keeps its Content-Length, ranges arrive intact, and a file
    /// that shrinks mid-response gives the client an error instead of a hang.
    #[tokio::test]
    async fn works_through_a_real_connection() {
        use axum::extract::State;
        use axum::routing::get;

        let fx = fixture(CHUNK_SIZE * 16);
        let path = Arc::new(fx.path.clone());
        let router = axum::Router::new()
            .route(
                "/file",
                get(|State(path): State<Arc<PathBuf>>, method: Method, headers: HeaderMap| async move {
                    match serve_file(&method, &headers, &path, ServeOptions::new("video/mp4")).await {
                        Ok(response) => response,
                        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
                    }
                }),
            )
            .with_state(path);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/file", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let client = reqwest::Client::new();

        let head = client.head(&url).send().await.expect("head");
        assert_eq!(head.status(), 200);
        let expected_len = fx.content.len().to_string();
        assert_eq!(head.headers()["content-length"], expected_len.as_str());
        assert_eq!(head.bytes().await.expect("head body").len(), 0);

        let partial = client
            .get(&url)
            .header("range", "bytes=100-199")
            .send()
            .await
            .expect("get");
        assert_eq!(partial.status(), 206);
        let total = fx.content.len();
        assert_eq!(
            partial.headers()["content-range"],
            format!("bytes 100-199/{total}").as_str()
        );
        assert_eq!(partial.bytes().await.expect("body"), &fx.content[100..200]);

        let full = client.get(&url).send().await.expect("get");
        assert_eq!(full.status(), 200);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fx.path)
            .and_then(|file| file.set_len(1000))
            .expect("truncate");
        let outcome = tokio::time::timeout(Duration::from_secs(10), full.bytes()).await;
        match outcome {
            // the whole file may already sit in the socket buffers when it is truncated
            Ok(Ok(body)) => assert!(body.len() < total || body == fx.content, "a corrupt body"),
            Ok(Err(_)) => {}
            Err(_) => panic!("the client hung on a truncated file"),
        }
        server.abort();
    }
}
