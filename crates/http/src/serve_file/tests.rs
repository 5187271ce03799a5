//! Tests of serving files: full, partial and conditional answers, errors, options, bodies.

use super::body::FileStream;
use super::opened::open_error;
use super::*;
use futures_util::StreamExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
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
    let headers = request_headers(&[(header::RANGE, "bytes=0-1"), (header::RANGE, "bytes=2-3")]);
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
        try_cached_reads: cached_reads,
        blocking_read: None,
        counter: None,
        path: path.into(),
        finished: false,
        sendfile: None,
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
            get(
                |State(path): State<Arc<PathBuf>>, method: Method, headers: HeaderMap| async move {
                    match serve_file(&method, &headers, &path, ServeOptions::new("video/mp4")).await
                    {
                        Ok(response) => response,
                        Err(err) => {
                            (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response()
                        }
                    }
                },
            ),
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

/// A server that answers `/file` with `path` through the [`Listener`] that sends file bodies
/// with `sendfile`; its address.
async fn sendfile_server(path: PathBuf) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use axum::extract::{Request, State};
    use axum::routing::get;

    let router = axum::Router::new()
        .route(
            "/file",
            get(
                |State(path): State<Arc<PathBuf>>, request: Request| async move {
                    let options = ServeOptions::new("video/mp4").sendfile(Sendfile::of(&request));
                    match serve_file(request.method(), request.headers(), &path, options).await {
                        Ok(response) => response,
                        Err(err) => {
                            (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response()
                        }
                    }
                },
            ),
        )
        .with_state(Arc::new(path));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router.into_make_service_with_connect_info::<Peer>();
    let server = tokio::spawn(async move {
        axum::serve(Listener(listener), app).await.expect("serve");
    });
    (addr, server)
}

/// One HTTP/1.1 exchange on a raw connection: writes `request`, reads one response (head and
/// `Content-Length` body, reading `step` bytes at a time with a pause after each when slow).
async fn exchange(
    conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    request: &str,
    slow: Option<(usize, Duration)>,
) -> (String, Vec<u8>) {
    use tokio::io::AsyncWriteExt;
    if !request.is_empty() {
        conn.get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("send");
    }
    read_response(conn, request.starts_with("HEAD"), slow).await
}

async fn read_response(
    conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    head_only: bool,
    slow: Option<(usize, Duration)>,
) -> (String, Vec<u8>) {
    use tokio::io::AsyncReadExt;
    let head = read_response_head(conn).await;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    let mut body = vec![0u8; if head_only { 0 } else { len }];
    match slow {
        None => {
            conn.read_exact(&mut body).await.expect("read body");
        }
        Some((step, pause)) => {
            for part in body.chunks_mut(step) {
                conn.read_exact(part).await.expect("read body");
                tokio::time::sleep(pause).await;
            }
        }
    }
    (head, body)
}

async fn connect(addr: std::net::SocketAddr) -> tokio::io::BufReader<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    // A small receive buffer makes the server's sendfile calls partial and its socket full.
    socket.set_recv_buffer_size(16 * 1024).expect("rcvbuf");
    tokio::io::BufReader::new(socket.connect(addr).await.expect("connect"))
}

fn get(range: Option<&str>) -> String {
    let range = range.map_or(String::new(), |r| format!("Range: bytes={r}\r\n"));
    format!("GET /file HTTP/1.1\r\nHost: test\r\n{range}\r\n")
}

/// The sendfile path sends the file's bytes, not its placeholders: whole files, ranges, suffix
/// ranges, HEAD between them, a slow reader (partial sends, a full socket) and pipelined
/// requests on one keep-alive connection, and it is really used (the byte count grows).
#[tokio::test]
async fn sendfile_connections_send_every_byte() {
    // Not a multiple of a page or of a placeholder, and larger than one placeholder.
    let fx = fixture(3 * 1024 * 1024 + 12_345);
    let total = fx.content.len();
    let (addr, server) = sendfile_server(fx.path.clone()).await;
    let mut conn = connect(addr).await;
    // Read once so the page cache holds the file, as it would for a video being watched.
    let (head, body) = exchange(&mut conn, &get(None), None).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body == fx.content, "whole file differs (first read)");

    let before = bytes_sent();
    let (head, body) = exchange(&mut conn, &get(None), None).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body == fx.content, "whole file differs");
    // All but the last 12,345 bytes (below the smallest placeholder, so copied).
    assert!(
        bytes_sent() >= before + 3 * 1024 * 1024,
        "the file should have gone through sendfile"
    );

    let (head, body) = exchange(&mut conn, &get(Some("100-199")), None).await;
    assert!(
        head.contains(&format!("content-range: bytes 100-199/{total}")),
        "{head}"
    );
    assert_eq!(body, &fx.content[100..200]);
    let head_request = "HEAD /file HTTP/1.1\r\nHost: test\r\n\r\n";
    let (head, body) = exchange(&mut conn, head_request, None).await;
    assert!(head.contains(&format!("content-length: {total}")), "{head}");
    assert!(body.is_empty());
    let (_, body) = exchange(&mut conn, &get(Some("-5000")), None).await;
    assert_eq!(body, &fx.content[total - 5000..]);

    // A player's 64 KiB range (one read's worth) leaves with sendfile too.
    let before = bytes_sent();
    let (head, body) = exchange(&mut conn, &get(Some("500000-565535")), None).await;
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert!(body == fx.content[500_000..565_536], "64 KiB range differs");
    assert!(
        bytes_sent() >= before + 65_536,
        "a cached 64 KiB range should have gone through sendfile"
    );

    // Ranges across placeholder boundaries, one after another.
    for (start, len) in [
        (0, 1),
        (1_048_575, 2),
        (2_000_000, 1_100_000),
        (total - 1, 1),
    ] {
        let range = format!("{start}-{}", start + len - 1);
        let (_, body) = exchange(&mut conn, &get(Some(&range)), None).await;
        assert!(
            body == fx.content[start..start + len],
            "range {range} differs"
        );
    }

    // A slow reader (the next test's 8 MiB body is what surely fills the server's socket).
    let (_, body) = exchange(
        &mut conn,
        &get(Some("0-1500000")),
        Some((64 * 1024, Duration::from_millis(2))),
    )
    .await;
    assert!(
        body == fx.content[..=1_500_000],
        "slowly read range differs"
    );

    // Pipelined: three requests sent at once, answered in order.
    let pipelined = [get(Some("10-20")), get(None), get(Some("3000000-3012344"))].concat();
    let (_, first) = exchange(&mut conn, &pipelined, None).await;
    let (_, second) = exchange(&mut conn, "", None).await;
    let (_, third) = exchange(&mut conn, "", None).await;
    assert_eq!(first, &fx.content[10..=20]);
    assert!(second == fx.content, "pipelined whole file differs");
    assert_eq!(third, &fx.content[3_000_000..3_012_345]);
    server.abort();
}

/// A file that is not in the page cache is read on the blocking pool and the rest sent with
/// sendfile once cached: one body of both kinds arrives intact. A file that shrinks while it is
/// sent ends the connection with a short body, never with other bytes.
#[tokio::test]
async fn sendfile_mixes_with_reads_and_stops_at_a_shrunk_file() {
    let fx = fixture(8 * 1024 * 1024 + 7);
    let total = fx.content.len();
    let (addr, server) = sendfile_server(fx.path.clone()).await;
    let file = std::fs::File::open(&fx.path).expect("open");
    file.sync_all().expect("sync");
    // Drop the (clean) cached pages: the first chunks must come from the disk.
    rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).expect("fadvise");
    let mut conn = connect(addr).await;
    let (head, body) = exchange(&mut conn, &get(None), None).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body == fx.content, "a body of reads and sendfile differs");

    // Start a slow whole-file read, then cut the file to 1 MiB.
    use tokio::io::AsyncWriteExt;
    conn.get_mut()
        .write_all(get(None).as_bytes())
        .await
        .expect("send");
    let cut = 1024 * 1024;
    let truncate = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fx.path)
            .and_then(|f| f.set_len(cut as u64))
            .expect("truncate");
    };
    let read = async {
        let mut received = Vec::new();
        let head = read_response_head(&mut conn).await;
        assert!(head.contains(&format!("content-length: {total}")), "{head}");
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        received
    };
    let (received, ()) = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(read, truncate)
    })
    .await
    .expect("the client hung on a shrunk file");
    assert!(received.len() < total, "a shrunk file cannot be sent whole");
    assert!(
        received == fx.content[..received.len()],
        "bytes that are not the file's"
    );
    server.abort();
}

/// The status line and headers of the next response (without the blank line).
async fn read_response_head(conn: &mut tokio::io::BufReader<tokio::net::TcpStream>) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut head = String::new();
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).await.expect("read head");
        assert!(!line.is_empty(), "connection closed in the head: {head}");
        if line == "\r\n" {
            return head;
        }
        head.push_str(&line);
    }
}

/// A kept file answered again keeps its validators while it is unchanged (made once, shared),
/// and answers with new ones as soon as its size or modification time changes.
#[tokio::test]
async fn a_reused_file_has_the_validators_of_its_current_version() {
    let fx = fixture(10_000);
    let opened = OpenedFile::open(fx.path.clone()).expect("open");
    let again = opened.reuse().expect("still linked");
    assert!(Arc::ptr_eq(&opened.version, &again.version));
    let serve = |opened: OpenedFile| {
        serve_opened(
            &Method::GET,
            &HeaderMap::new(),
            opened,
            ServeOptions::new("video/mp4"),
        )
        .expect("served")
    };
    let first = serve(again);
    assert_eq!(
        header(&first, &header::ETAG),
        Some(fx.validators.etag.as_str())
    );
    let last_modified = fx.validators.last_modified_header();
    assert_eq!(
        header(&first, &header::LAST_MODIFIED),
        last_modified.as_deref()
    );

    // Same size, other time: a new ETag and Last-Modified.
    let earlier = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let file = std::fs::File::options()
        .write(true)
        .open(&fx.path)
        .expect("open for writing");
    file.set_modified(earlier).expect("set mtime");
    let touched = serve(opened.reuse().expect("still linked"));
    let expected = Validators::new(10_000, Some(earlier));
    assert_eq!(
        header(&touched, &header::ETAG),
        Some(expected.etag.as_str())
    );
    assert_eq!(
        header(&touched, &header::LAST_MODIFIED),
        Some("Sun, 13 Sep 2020 12:26:40 GMT")
    );

    // Grown: the new size in the ETag and Content-Length, and the whole file in the body.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&fx.path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"more"))
        .expect("append");
    let grown = serve(opened.reuse().expect("still linked"));
    let modified = std::fs::metadata(&fx.path)
        .and_then(|m| m.modified())
        .expect("mtime");
    let expected = Validators::new(10_004, Some(modified));
    assert_eq!(header(&grown, &header::ETAG), Some(expected.etag.as_str()));
    assert_eq!(header(&grown, &header::CONTENT_LENGTH), Some("10004"));
    assert_eq!(body_bytes(grown).await.len(), 10_004);
}
