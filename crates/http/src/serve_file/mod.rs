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
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::ApiError;
use crate::range::{
    Conditions, Precondition, RangeError, Validators, evaluate_preconditions, if_range_matches,
    parse_range, unsatisfied_content_range,
};
use sofathek_codes::Code;

/// The size of one read: a response holds at most this many bytes of its file in its own
/// buffer, plus what the connection has queued for the socket (hyper queues at most ~400 KiB).
pub const CHUNK_SIZE: usize = 64 * 1024;

/// About as many headers as a file response carries: its own seven and the server's frame
/// (request id and security headers).
const RESPONSE_HEADERS: usize = 16;

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
    /// When set, the body's cached chunks are sent by the kernel (`sendfile`), see [`Sendfile`].
    pub sendfile: Option<Sendfile>,
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
            sendfile: None,
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

    /// Lets the body use `sendfile` when the request's connection allows it ([`Sendfile::of`]).
    pub fn sendfile(mut self, sendfile: Option<Sendfile>) -> ServeOptions<'a> {
        self.sendfile = sendfile;
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
        version,
        path,
    } = opened;
    let size = version.size;
    if let Some(max) = options.max_size {
        if size > max {
            return Err(ServeError::TooLarge { size, max });
        }
    }
    let validators = &version.validators;

    let if_match = list_header(headers, &header::IF_MATCH);
    let if_none_match = list_header(headers, &header::IF_NONE_MATCH);
    let conditions = Conditions {
        if_match: if_match.as_deref(),
        if_unmodified_since: single_header(headers, &header::IF_UNMODIFIED_SINCE),
        if_none_match: if_none_match.as_deref(),
        if_modified_since: single_header(headers, &header::IF_MODIFIED_SINCE),
    };
    match evaluate_preconditions(method, &conditions, validators) {
        Precondition::Proceed => {}
        Precondition::NotModified => return Ok(not_modified(&version, &options)),
        Precondition::Failed => {
            return Ok(
                ApiError::new(StatusCode::PRECONDITION_FAILED, "Precondition failed")
                    .with_code(Code::PreconditionFailed)
                    .into_response(),
            );
        }
    }

    let range = match requested_range(method, headers, validators, options.ranges) {
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
        let counter = options.bytes_counter.clone();
        file_body(file, start, len, counter, path, options.sendfile.clone())
    };

    let mut response = Response::new(body);
    *response.status_mut() = status;
    let response_headers = response.headers_mut();
    // Room for these and the frame's headers, so the map does not grow (and rehash) twice.
    response_headers.reserve(RESPONSE_HEADERS);
    insert_validators(response_headers, &version, &options);
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
fn insert_validators(headers: &mut HeaderMap, version: &Version, options: &ServeOptions) {
    let accept_ranges = if options.ranges { "bytes" } else { "none" };
    headers.insert(
        header::ACCEPT_RANGES,
        HeaderValue::from_static(accept_ranges),
    );
    if let Some(etag) = &version.etag {
        headers.insert(header::ETAG, etag.clone());
    }
    if let Some(last_modified) = &version.last_modified {
        headers.insert(header::LAST_MODIFIED, last_modified.clone());
    }
    if let Some(cache_control) = options.cache_control {
        insert_string(headers, header::CACHE_CONTROL, cache_control.to_owned());
    }
}

fn not_modified(version: &Version, options: &ServeOptions) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    insert_validators(response.headers_mut(), version, options);
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

mod body;
mod opened;
mod sendfile;

use body::file_body;
pub use opened::OpenedFile;
use opened::Version;
pub use sendfile::{Listener, Peer, Sendfile, bytes_sent};
#[cfg(test)]
mod tests;
