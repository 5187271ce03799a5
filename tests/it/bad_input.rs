//! The bad-input corpus: a table of hostile requests (path traversal in every encoding, overlong
//! and control-character names, URLs crafted as options or aimed at private networks, malformed
//! and oversize multipart, truncated and disguised media, huge and malformed JSON, wrong content
//! types, hostile query parameters and Range headers), sent byte for byte over a raw TCP socket
//! to a real server. Each must get its documented status — a JSON error envelope wherever the
//! API answers — and leave the catalogue (every row of every table) and the data directory
//! (every file, byte for byte) exactly as they were.
//!
//! The table comes in groups (file routes, Range headers, credentials, methods and routes, listing
//! parameters, JSON bodies, URL submissions, uploads); each group is a test of its own against a
//! fresh server, so that one group passes or fails on its own, and every row of a failing group
//! is reported together.

use crate::support;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest upload the corpus server accepts (small, so "oversize" is cheap).
const MAX_UPLOAD: u64 = 256 * 1024;

/// One hostile request and what it must get.
struct Case {
    name: String,
    method: &'static str,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    /// The answer must be the JSON error envelope (false only where hyper or the web UI answers).
    json: bool,
    /// The stable error code, when the answer has one worth pinning.
    code: Option<&'static str>,
    /// Send the parent's API token (most rows: the input must be refused for what it is, not
    /// for a missing credential).
    parent: bool,
}

fn case(name: &str, method: &'static str, target: &str, status: u16) -> Case {
    Case {
        name: name.to_owned(),
        method,
        target: target.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
        status,
        json: true,
        code: None,
        parent: true,
    }
}

impl Case {
    fn header(mut self, name: &str, value: &str) -> Case {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Case {
        self.body = body.into();
        if !content_type.is_empty() {
            self.headers
                .push(("Content-Type".into(), content_type.into()));
        }
        self
    }

    fn json_body(self, body: &Value) -> Case {
        self.body("application/json", body.to_string())
    }

    fn code(mut self, code: &'static str) -> Case {
        self.code = Some(code);
        self
    }

    fn not_json(mut self) -> Case {
        self.json = false;
        self
    }

    fn anonymous(mut self) -> Case {
        self.parent = false;
        self
    }
}

/// A multipart body with the given parts `(name, file name, content)`.
fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: video/mp4\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

fn upload(name: &str, parts: &[(&str, Option<&str>, &[u8])], status: u16) -> Case {
    case(name, "POST", "/api/videos/upload", status).body(
        "multipart/form-data; boundary=XyZzy",
        multipart("XyZzy", parts),
    )
}

/// Media fixtures for the upload rows.
struct Media {
    mp4: Vec<u8>,
    mp4_tail_moov: Vec<u8>,
    png: Vec<u8>,
    mp3: Vec<u8>,
}

fn media(dir: &Path) -> Media {
    let mp4 = dir.join("good.mp4");
    support::make_mp4(&mp4, 1);
    let tail = dir.join("tail.mp4");
    let picture = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=1:size=160x120:rate=25",
    ];
    let target = [tail.to_str().expect("utf-8 path")];
    support::ffmpeg(&[&picture[..], &support::H264, &target].concat());
    let png = dir.join("still.png");
    support::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x64:rate=1",
        "-frames:v",
        "1",
        png.to_str().expect("utf-8 path"),
    ]);
    let mp3 = dir.join("sound.mp3");
    support::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        "-c:a",
        "libmp3lame",
        mp3.to_str().expect("utf-8 path"),
    ]);
    let read = |p: &Path| std::fs::read(p).expect("fixture");
    Media {
        mp4: read(&mp4),
        mp4_tail_moov: read(&tail),
        png: read(&png),
        mp3: read(&mp3),
    }
}

/// Path traversal and hostile names on the three file routes.
fn file_route_rows(video: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for route in ["stream", "download", "thumbnails"] {
        let p = |s: &str| format!("/api/{route}/{s}");
        let ext = if route == "thumbnails" { "webp" } else { "mp4" };
        cases.extend([
            case("encoded ../", "GET", &p("..%2F..%2Fetc%2Fpasswd"), 400).code("INVALID_FILENAME"),
            case(
                "lower-case encoded ../",
                "GET",
                &p("..%2f..%2fetc%2fpasswd.mp4"),
                400,
            ),
            case(
                "encoded dots and slashes",
                "GET",
                &p("%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
                400,
            ),
            case("encoded absolute path", "GET", &p("%2Fetc%2Fpasswd"), 400),
            case(
                "raw ../ (not normalised)",
                "GET",
                &p("../../etc/passwd"),
                404,
            ),
            case("raw ./ segment", "GET", &p("./x.mp4"), 404),
            case(
                "double slash",
                "GET",
                &format!("/api/{route}//etc/passwd"),
                404,
            ),
            case("lone ..", "GET", &p(".."), 400),
            case("encoded ..", "GET", &p("%2e%2e"), 400),
            case("backslashes", "GET", &p("..%5C..%5Cwindows%5Cwin.ini"), 400),
            case("mixed separators", "GET", &p("..%5C..%2Fsofathek.db"), 400),
            case("NUL byte", "GET", &p("clip.mp4%00.jpg"), 400),
            case(
                "CR LF injection",
                "GET",
                &p("clip%0D%0ASet-Cookie:x.mp4"),
                400,
            ),
            case("tab", "GET", &p("a%09b.mp4"), 400),
            case("DEL", "GET", &p("a%7Fb.webp"), 400),
            case("C1 control (NEL)", "GET", &p("a%C2%85b.mp4"), 400),
            case(
                "overlong UTF-8 dot dot slash",
                "GET",
                &p("%C0%AE%C0%AE%C0%AFetc.mp4"),
                400,
            ),
            case("invalid UTF-8", "GET", &p("%FF%FE.mp4"), 400),
            case("lone surrogate (CESU)", "GET", &p("%ED%A0%80.mp4"), 400),
            case("hidden file", "GET", &p(".hidden.mp4"), 400),
            case("the database", "GET", &p("sofathek.db"), 400),
            case("the WAL", "GET", &p("sofathek.db-wal"), 400),
            case("a sidecar", "GET", &p("Test_Video-abc123.info.json"), 400),
            case("no extension", "GET", &p("passwd"), 400).code("INVALID_FILE_TYPE"),
            case("executable", "GET", &p("evil.exe"), 400),
            case(
                "right-to-left override",
                "GET",
                &p("clip%E2%80%AE4pm.exe"),
                400,
            ),
            case(
                "double-encoded ../",
                "GET",
                &p(&format!("%252e%252e%252fetc%252fpasswd.{ext}")),
                404,
            ),
            case(
                "fullwidth dots and slash",
                "GET",
                &p(&format!("%EF%BC%8E%EF%BC%8E%EF%BC%8Fetc.{ext}")),
                404,
            ),
            case(
                "overlong name (4 KB)",
                "GET",
                &p(&format!("{}.mp4", "a".repeat(4096))),
                400,
            ),
            case(
                "symlink leading outside",
                "GET",
                &p(&format!("escape.{ext}")),
                403,
            )
            .code("INVALID_PATH"),
            case(
                "unknown file",
                "GET",
                &p(&format!("nothing-here.{ext}")),
                404,
            ),
        ]);
    }
    cases.push(
        case(
            "URI longer than hyper's limit",
            "GET",
            &format!("/api/stream/{}.mp4", "a".repeat(70_000)),
            414,
        )
        .not_json(),
    );
    cases.push(case(
        "thumbnail route, video name",
        "GET",
        &format!("/api/thumbnails/{video}"),
        400,
    ));
    cases.push(case(
        "stream route, subtitle",
        "GET",
        "/api/stream/Test_Video-abc123.en.srt",
        400,
    ));
    cases
}

/// Hostile Range and conditional headers.
fn range_rows(video: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let stream = format!("/api/stream/{video}");
    for (range, status) in [
        ("bytes=5-1", 400),
        ("bytes=abc", 400),
        ("bytes=-", 400),
        ("bytes=1-2-3", 400),
        ("items=0-1", 400),
        ("bytes=", 400),
        ("bytes=99999999999999999999999-", 416),
        ("bytes=18446744073709551615-18446744073709551616", 416),
        ("bytes=-0", 416),
        ("bytes= 0 - 1", 400),
    ] {
        cases
            .push(case(&format!("Range {range:?}"), "GET", &stream, status).header("Range", range));
    }
    cases.push(
        case("1000 ranges, one malformed", "GET", &stream, 400)
            .header("Range", &format!("bytes={}x-y", "0-0,".repeat(1000))),
    );
    cases.push(case("If-Match mismatch", "GET", &stream, 412).header("If-Match", "\"nope\""));
    cases
}

/// Missing, forged and malformed credentials.
fn credential_rows(video: &str) -> Vec<Case> {
    let stream = format!("/api/stream/{video}");
    let edit_target = format!("/api/videos/{}", video.trim_end_matches(".mp4"));
    vec![
        case("edit without credentials", "PATCH", &edit_target, 401)
            .json_body(&json!({"title": "x"}))
            .anonymous()
            .code("AUTH_REQUIRED"),
        case("delete without credentials", "DELETE", &edit_target, 401).anonymous(),
        case("listing without credentials", "GET", "/api/videos", 401).anonymous(),
        case("stream without credentials", "GET", &stream, 401).anonymous(),
        case("job without credentials", "POST", "/api/jobs", 401)
            .json_body(&json!({"url": "http://93.184.216.34/"}))
            .anonymous(),
        case(
            "upload without credentials",
            "POST",
            "/api/videos/upload",
            401,
        )
        .body(
            "multipart/form-data; boundary=XyZzy",
            multipart("XyZzy", &[("video", Some("a.mp4"), b"x")]),
        )
        .anonymous(),
        case("forged API token", "DELETE", &edit_target, 401)
            .header(
                "Authorization",
                "Bearer sft_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )
            .anonymous()
            .code("INVALID_CREDENTIALS"),
        case("malformed Authorization", "DELETE", &edit_target, 401)
            .header("Authorization", "Bearer ../../etc")
            .anonymous(),
        case("Basic instead of Bearer", "DELETE", &edit_target, 401)
            .header("Authorization", "Basic cGFyZW50OnBhcmVudA==")
            .anonymous(),
        case("forged session cookie", "DELETE", &edit_target, 401)
            .header(
                "Cookie",
                "sofathek_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )
            .anonymous(),
        case("password list as token", "GET", "/api/tokens", 401)
            .header("Authorization", "Bearer correct horse battery staple")
            .anonymous(),
    ]
}

/// Methods and routes.
fn method_and_route_rows(video: &str) -> Vec<Case> {
    let stream = format!("/api/stream/{video}");
    vec![
        case("TRACE", "TRACE", "/api/videos", 405),
        case("made-up method", "BREW", "/api/videos", 405),
        case("POST to a file route", "POST", &stream, 405),
        case("DELETE the library listing", "DELETE", "/api/videos", 405),
        case("unknown API route", "GET", "/api/../../etc/passwd", 404),
        case(
            "API route with traversal id",
            "GET",
            "/api/videos/..%2F..%2Fetc%2Fpasswd",
            404,
        ),
        case(
            "DELETE a traversal id",
            "DELETE",
            "/api/videos/..%2Flibrary",
            404,
        ),
        case(
            "DELETE an encoded-dot id",
            "DELETE",
            "/api/videos/%2e%2e",
            404,
        ),
        case(
            "job id traversal",
            "GET",
            "/api/jobs/..%2F..%2Fsofathek.db",
            404,
        ),
        case("cancel unknown job", "DELETE", "/api/jobs/%00", 404),
        case(
            "retry unknown job",
            "POST",
            "/api/jobs/'%20OR%201=1--/retry",
            404,
        ),
        case(
            "original status, unknown id",
            "GET",
            "/api/youtube/download/;DROP%20TABLE%20jobs/status",
            404,
        ),
        case(
            "original cancel, unknown id",
            "DELETE",
            "/api/youtube/download/*",
            404,
        ),
        case(
            "asset traversal",
            "GET",
            "/assets/..%2F..%2FCargo.toml",
            404,
        ),
        case("asset with NUL", "GET", "/assets/app.js%00.png", 404),
        case(
            "watch page traversal",
            "GET",
            "/watch/..%2F..%2Fetc%2Fpasswd",
            404,
        )
        .not_json(),
    ]
}

/// Query parameters of the listing.
fn listing_query_rows() -> Vec<Case> {
    let mut cases = Vec::new();
    for (query, status) in [
        ("limit=0", 400),
        ("limit=201", 400),
        ("limit=-1", 400),
        ("limit=abc", 400),
        ("limit=99999999999999999999", 400),
        ("page=0", 400),
        ("page=1.5", 400),
        ("sort=bogus", 400),
        ("sort=name;DROP%20TABLE%20videos", 400),
        ("unknown=1", 400),
        // Query strings are decoded leniently (invalid UTF-8 becomes U+FFFD): a search for it.
        ("q=%FF%FE", 200),
        ("page=1&page=2", 400),
        (&format!("q={}", "a".repeat(501)), 400),
        // Full-text query syntax must be taken literally, never as FTS5 syntax or SQL.
        ("q=%22", 200),
        ("q=NEAR(a%20b", 200),
        ("q=a%20OR%20*", 200),
        ("q=%27%3B%20DROP%20TABLE%20videos%3B--", 200),
        ("q=title%3A%20x%20AND%20(", 200),
        ("category=%27%20OR%20%271%27%3D%271", 200),
    ] {
        let mut c = case(
            &format!("listing ?{}", truncate(query)),
            "GET",
            &format!("/api/videos?{query}"),
            status,
        );
        if status == 200 {
            c.json = false; // a success, not an error envelope
        }
        cases.push(c);
    }
    cases
}

/// JSON bodies: edit a video, categories.
fn json_body_rows(video: &str) -> Vec<Case> {
    let edit = format!("/api/videos/{}", video.trim_end_matches(".mp4"));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        case("edit: malformed JSON", "PATCH", &edit, 400).body("application/json", "{\"title\":"),
        case("edit: empty body", "PATCH", &edit, 400).body("application/json", ""),
        case("edit: text/plain", "PATCH", &edit, 415).body("text/plain", "{\"title\":\"x\"}"),
        case("edit: form content type", "PATCH", &edit, 415)
            .body("application/x-www-form-urlencoded", "title=x"),
        case("edit: no content type", "PATCH", &edit, 415).body("", "{\"title\":\"x\"}"),
        case("edit: array instead of object", "PATCH", &edit, 400).json_body(&json!(["New", null])),
        case("edit: nothing to change", "PATCH", &edit, 400).json_body(&json!({})),
        case("edit: unknown field", "PATCH", &edit, 400)
            .json_body(&json!({"title": "x", "file_name": "/etc/passwd"})),
        case("edit: control characters in title", "PATCH", &edit, 400)
            .json_body(&json!({"title": "a\u{0}b\u{1b}[31m"})),
        case("edit: title of 301 characters", "PATCH", &edit, 400)
            .json_body(&json!({"title": "x".repeat(301)})),
        case("edit: blank title", "PATCH", &edit, 400).json_body(&json!({"title": " \t "})),
        case("edit: title as number", "PATCH", &edit, 400).json_body(&json!({"title": 42})),
        case("edit: unknown category", "PATCH", &edit, 400)
            .json_body(&json!({"category": "../../etc"})),
        case("edit: duplicate keys", "PATCH", &edit, 400)
            .body("application/json", "{\"title\":\"a\",\"title\":\"b\"}"),
        case("edit: byte order mark", "PATCH", &edit, 400)
            .body("application/json", "\u{feff}{\"title\":\"x\"}"),
        case("edit: invalid UTF-8", "PATCH", &edit, 400)
            .body("application/json", b"{\"title\":\"\xff\xfe\"}".to_vec()),
        case("edit: 100,000 levels of nesting", "PATCH", &edit, 400)
            .body("application/json", deep.clone()),
        case("edit: 2 MiB body", "PATCH", &edit, 413)
            .json_body(&json!({"title": "x".repeat(2 << 20)})),
        case(
            "edit: unknown video",
            "PATCH",
            "/api/videos/no-such-video",
            404,
        )
        .json_body(&json!({"title": "x"})),
        case(
            "category: control characters",
            "POST",
            "/api/categories",
            400,
        )
        .json_body(&json!({"name": "a\u{7}b"})),
        case("category: 101 characters", "POST", "/api/categories", 400)
            .json_body(&json!({"name": "x".repeat(101)})),
        case(
            "category: no letter or digit",
            "POST",
            "/api/categories",
            400,
        )
        .json_body(&json!({"name": "!!!"})),
        case("category: traversal slug", "POST", "/api/categories", 400)
            .json_body(&json!({"name": "x", "slug": "../x"})),
        case("category: upper-case slug", "POST", "/api/categories", 400)
            .json_body(&json!({"name": "x", "slug": "Bad Slug"})),
        case("category: exists already", "POST", "/api/categories", 409)
            .json_body(&json!({"name": "Dinosaurs"})),
        case("category: wrong type", "POST", "/api/categories", 400)
            .json_body(&json!({"name": ["x"]})),
        case(
            "category: 100,000 levels of nesting",
            "POST",
            "/api/categories",
            400,
        )
        .body("application/json", deep),
        case(
            "rename unknown category",
            "PATCH",
            "/api/categories/nope",
            404,
        )
        .json_body(&json!({"name": "x"})),
        case(
            "rename with control characters",
            "PATCH",
            "/api/categories/dinosaurs",
            400,
        )
        .json_body(&json!({"name": "\u{1b}"})),
        case(
            "delete unknown category",
            "DELETE",
            "/api/categories/..%2F..",
            404,
        ),
    ]
}

/// URL submissions: options, schemes, private and local hosts (`private_host`: a name that
/// resolves to a private address, when this machine has one).
fn url_rows(private_host: Option<&str>) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut urls: Vec<(String, &'static str)> = [
        ("", "URL_REQUIRED"),
        ("   ", "URL_REQUIRED"),
        ("-o/tmp/pwned", "URL_LOOKS_LIKE_OPTION"),
        ("--exec=touch /tmp/pwned", "URL_LOOKS_LIKE_OPTION"),
        (" --batch-file=/etc/passwd", "URL_LOOKS_LIKE_OPTION"),
        ("-", "URL_LOOKS_LIKE_OPTION"),
        ("ftp://example.com/video.mp4", "URL_UNSUPPORTED_SCHEME"),
        ("file:///etc/passwd", "URL_UNSUPPORTED_SCHEME"),
        ("javascript:alert(1)", "URL_UNSUPPORTED_SCHEME"),
        ("data:video/mp4;base64,AAAA", "URL_UNSUPPORTED_SCHEME"),
        ("gopher://127.0.0.1:25/", "URL_UNSUPPORTED_SCHEME"),
        ("not a url", "URL_MALFORMED"),
        ("http://", "URL_MALFORMED"),
        ("https://exa mple.com/", "URL_MALFORMED"),
        (
            "http://example.com/%0d%0aX-Injected:%201",
            "URL_CONTROL_CHARACTER",
        ),
        ("http://example.com/\u{0}", "URL_CONTROL_CHARACTER"),
        ("http://127.0.0.1/video.mp4", "URL_FORBIDDEN_ADDRESS"),
        ("http://127.1/", "URL_FORBIDDEN_ADDRESS"),
        ("http://2130706433/", "URL_FORBIDDEN_ADDRESS"),
        ("http://0x7f.0.0.1/", "URL_FORBIDDEN_ADDRESS"),
        ("http://0177.0.0.1/", "URL_FORBIDDEN_ADDRESS"),
        ("http://0.0.0.0:3001/api/videos", "URL_FORBIDDEN_ADDRESS"),
        ("http://10.0.0.1/", "URL_FORBIDDEN_ADDRESS"),
        ("http://172.16.5.4/", "URL_FORBIDDEN_ADDRESS"),
        ("http://192.168.1.1/admin", "URL_FORBIDDEN_ADDRESS"),
        ("http://100.64.0.1/", "URL_FORBIDDEN_ADDRESS"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "URL_FORBIDDEN_ADDRESS",
        ),
        ("http://user:pass@127.0.0.1:8080/", "URL_FORBIDDEN_ADDRESS"),
        ("http://[::1]/", "URL_FORBIDDEN_ADDRESS"),
        ("http://[::]/", "URL_FORBIDDEN_ADDRESS"),
        ("http://[::ffff:127.0.0.1]/", "URL_FORBIDDEN_ADDRESS"),
        ("http://[::ffff:a9fe:a9fe]/", "URL_FORBIDDEN_ADDRESS"),
        ("http://[fe80::1]/", "URL_FORBIDDEN_ADDRESS"),
        ("http://[fc00::1]/", "URL_FORBIDDEN_ADDRESS"),
        ("http://[64:ff9b::7f00:1]/", "URL_FORBIDDEN_ADDRESS"),
        ("http://localhost:3001/api/videos", "URL_LOCAL_HOST"),
        ("http://LOCALHOST./", "URL_LOCAL_HOST"),
        ("http://admin.localhost/", "URL_LOCAL_HOST"),
        ("http://printer.local/", "URL_LOCAL_HOST"),
        ("http://ip6-localhost/", "URL_LOCAL_HOST"),
    ]
    .into_iter()
    .map(|(u, c)| (u.to_owned(), c))
    .collect();
    urls.push((
        format!("https://example.com/{}", "a".repeat(2000)),
        "URL_TOO_LONG",
    ));
    if let Some(host) = private_host {
        // A name (this machine's, from /etc/hosts) that resolves to a private address: the
        // address is checked after resolution, not the name.
        urls.push((format!("http://{host}/video.mp4"), "URL_FORBIDDEN_ADDRESS"));
    }
    for (url, code) in &urls {
        cases.push(
            case(
                &format!("job URL {:?}", truncate(url)),
                "POST",
                "/api/jobs",
                400,
            )
            .json_body(&json!({ "url": url }))
            .code(code),
        );
    }
    for (url, code) in urls.iter().take(12) {
        cases.push(
            case(
                &format!("original download URL {:?}", truncate(url)),
                "POST",
                "/api/youtube/download",
                400,
            )
            .json_body(&json!({ "url": url }))
            .code(code),
        );
    }
    // A public address literal passes the URL policy without DNS; the other fields must stop it.
    let public = "http://93.184.216.34/video.mp4";
    cases.extend([
        case("job: no url", "POST", "/api/jobs", 400)
            .json_body(&json!({"title": "x"}))
            .code("URL_REQUIRED"),
        case("job: url as number", "POST", "/api/jobs", 400).json_body(&json!({"url": 42})),
        case("job: url as array", "POST", "/api/jobs", 400)
            .json_body(&json!({"url": ["http://a/"]})),
        case("job: control characters in title", "POST", "/api/jobs", 400)
            .json_body(&json!({"url": public, "title": "a\u{0}b"})),
        case("job: title of 301 characters", "POST", "/api/jobs", 400)
            .json_body(&json!({"url": public, "title": "x".repeat(301)})),
        case("job: unknown category", "POST", "/api/jobs", 400)
            .json_body(&json!({"url": public, "category": "nope"}))
            .code("UNKNOWN_CATEGORY"),
        case("job: audio as string", "POST", "/api/jobs", 400)
            .json_body(&json!({"url": public, "audio": "yes"})),
        case("job: text/plain", "POST", "/api/jobs", 415)
            .body("text/plain", format!("{{\"url\":\"{public}\"}}")),
        case("job: malformed JSON", "POST", "/api/jobs", 400).body("application/json", "{url:"),
        case("job: 2 MiB body", "POST", "/api/jobs", 413)
            .json_body(&json!({"url": public, "title": "x".repeat(2 << 20)})),
        case(
            "original download: url as object",
            "POST",
            "/api/youtube/download",
            400,
        )
        .json_body(&json!({"url": {"href": public}})),
        case(
            "original download: array body",
            "POST",
            "/api/youtube/download",
            400,
        )
        .json_body(&json!([public])),
        case(
            "original download: malformed JSON",
            "POST",
            "/api/youtube/download",
            400,
        )
        .body("application/json", "{"),
        case(
            "original download: empty body",
            "POST",
            "/api/youtube/download",
            400,
        )
        .body("", ""),
        case(
            "queue clean-up: negative age",
            "POST",
            "/api/youtube/queue/cleanup",
            400,
        )
        .json_body(&json!({"maxAgeHours": -1})),
        case(
            "queue clean-up: age as string",
            "POST",
            "/api/youtube/queue/cleanup",
            400,
        )
        .json_body(&json!({"maxAgeHours": "all"})),
        case(
            "queue clean-up: age out of range",
            "POST",
            "/api/youtube/queue/cleanup",
            400,
        )
        .body("application/json", "{\"maxAgeHours\":1e999}"),
        case(
            "queue clean-up: array body",
            "POST",
            "/api/youtube/queue/cleanup",
            400,
        )
        .json_body(&json!([1])),
        case(
            "queue clean-up: a body of only white space",
            "POST",
            "/api/youtube/queue/cleanup",
            400,
        )
        .body("application/json", "\n"),
    ]);
    cases
}

/// Uploads: malformed multipart, disguised and truncated media, oversize.
fn upload_rows(media: &Media) -> Vec<Case> {
    let header_cut = &media.mp4[..media.mp4.len().min(200)];
    let without_moov = &media.mp4_tail_moov[..media.mp4_tail_moov.len() / 2];
    let html = b"<!doctype html><html><body><video src=x></video></body></html>".as_slice();
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0".as_slice();
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0".as_slice();
    let oversize = vec![0u8; MAX_UPLOAD as usize + 1];
    vec![
        upload(
            "upload: text disguised as .mp4",
            &[("video", Some("movie.mp4"), b"just some text, not a video")],
            415,
        ),
        upload(
            "upload: HTML disguised as .mp4",
            &[("video", Some("page.mp4"), html)],
            415,
        ),
        upload(
            "upload: ELF binary as .mkv",
            &[("video", Some("x.mkv"), elf)],
            415,
        ),
        upload(
            "upload: ZIP as .webm",
            &[("video", Some("x.webm"), zip)],
            415,
        ),
        upload(
            "upload: PNG image as .mp4",
            &[("video", Some("still.mp4"), &media.png)],
            415,
        ),
        upload(
            "upload: MP3 audio as .mp4",
            &[("video", Some("sound.mp4"), &media.mp3)],
            415,
        ),
        upload(
            "upload: MP4 cut inside its header",
            &[("video", Some("cut.mp4"), header_cut)],
            415,
        ),
        upload(
            "upload: MP4 cut before its moov",
            &[("video", Some("cut.mp4"), without_moov)],
            415,
        ),
        upload(
            "upload: empty file",
            &[("video", Some("empty.mp4"), b"")],
            415,
        ),
        upload(
            "upload: one byte over the limit",
            &[("video", Some("big.mp4"), &oversize)],
            413,
        ),
        upload(
            "upload: traversal file name, junk",
            &[("video", Some("../../../../etc/cron.d/x.mp4"), b"junk")],
            415,
        ),
        upload("upload: no video field", &[("title", None, b"x")], 400),
        upload(
            "upload: two files",
            &[
                ("video", Some("a.mp4"), &media.mp4),
                ("video", Some("b.mp4"), &media.mp4),
            ],
            400,
        ),
        upload(
            "upload: control characters in title",
            &[
                ("title", None, b"a\x00b"),
                ("video", Some("a.mp4"), &media.mp4),
            ],
            400,
        ),
        upload(
            "upload: invalid UTF-8 title",
            &[
                ("title", None, b"\xff\xfe"),
                ("video", Some("a.mp4"), &media.mp4),
            ],
            400,
        ),
        upload(
            "upload: 5 KB title field",
            &[
                ("title", None, &[b'x'; 5000]),
                ("video", Some("a.mp4"), &media.mp4),
            ],
            400,
        ),
        upload(
            "upload: audio=maybe",
            &[
                ("audio", None, b"maybe"),
                ("video", Some("a.mp4"), &media.mp4),
            ],
            400,
        ),
        upload(
            "upload: unknown category",
            &[
                ("category", None, b"../nope"),
                ("video", Some("a.mp4"), &media.mp4),
            ],
            400,
        ),
        case("upload: no content type", "POST", "/api/videos/upload", 400).body(
            "",
            multipart("XyZzy", &[("video", Some("a.mp4"), &media.mp4)]),
        ),
        case(
            "upload: JSON instead of multipart",
            "POST",
            "/api/videos/upload",
            400,
        )
        .json_body(&json!({"video": "AAAA"})),
        case(
            "upload: multipart without boundary",
            "POST",
            "/api/videos/upload",
            400,
        )
        .body(
            "multipart/form-data",
            multipart("XyZzy", &[("video", Some("a.mp4"), &media.mp4)]),
        ),
        case(
            "upload: boundary mismatch",
            "POST",
            "/api/videos/upload",
            400,
        )
        .body(
            "multipart/form-data; boundary=Other",
            multipart("XyZzy", &[("video", Some("a.mp4"), &media.mp4)]),
        ),
        case(
            "upload: body cut mid-file",
            "POST",
            "/api/videos/upload",
            400,
        )
        .body("multipart/form-data; boundary=XyZzy", {
            let full = multipart("XyZzy", &[("video", Some("a.mp4"), &media.mp4)]);
            full[..full.len() / 2].to_vec()
        }),
        case(
            "upload: garbage part headers",
            "POST",
            "/api/videos/upload",
            400,
        )
        .body(
            "multipart/form-data; boundary=XyZzy",
            b"--XyZzy\r\nContent-Disposition: form-data; name=\"video\r\n\r\n\r\n--XyZzy--\r\n"
                .to_vec(),
        ),
        case(
            "upload: declared length far over the limit",
            "POST",
            "/api/videos/upload",
            413,
        )
        .body(
            "multipart/form-data; boundary=XyZzy",
            b"--XyZzy--\r\n".to_vec(),
        )
        .header("X-Declared-Length", &(MAX_UPLOAD * 100).to_string()),
    ]
}

/// The whole corpus, every group in turn. `video` is a file the catalogue knows.
fn corpus(video: &str, media: &Media, private_host: Option<&str>) -> Vec<Case> {
    let mut cases = file_route_rows(video);
    cases.extend(range_rows(video));
    cases.extend(credential_rows(video));
    cases.extend(method_and_route_rows(video));
    cases.extend(listing_query_rows());
    cases.extend(json_body_rows(video));
    cases.extend(url_rows(private_host));
    cases.extend(upload_rows(media));
    cases
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// A response read from the raw socket.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Sends `case` as bytes on a fresh connection and reads the whole response.
async fn send(addr: std::net::SocketAddr, token: &str, case: &Case) -> Raw {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n",
        case.method, case.target
    );
    if case.parent {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let mut declared = None;
    for (name, value) in &case.headers {
        if name == "X-Declared-Length" {
            declared = Some(value.clone());
        } else {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    let length = declared.unwrap_or_else(|| case.body.len().to_string());
    head.push_str(&format!("Content-Length: {length}\r\n\r\n"));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // The server may answer (413, 415) and close before reading the whole body.
    let _ = stream.write_all(&case.body).await;
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut bytes)).await;
    assert!(
        read.is_ok(),
        "{}: no complete answer within 60 s",
        case.name
    );
    parse(&bytes).unwrap_or_else(|| {
        panic!(
            "{}: unparseable response {:?}",
            case.name,
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        )
    })
}

fn parse(bytes: &[u8]) -> Option<Raw> {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body)?;
    }
    Some(Raw {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).ok()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Everything the corpus must not change: every row of every table, and every file under the
/// data directory except the database's own files (compared through their rows instead).
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    rows: BTreeMap<String, Vec<String>>,
    files: BTreeMap<PathBuf, (u64, u64)>,
}

fn snapshot(data: &Path) -> Snapshot {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("sofathek.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the catalogue read-only");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    let mut rows = BTreeMap::new();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .expect("select");
        // When the test's own API token was last used is bookkeeping, not catalogue.
        let kept: Vec<usize> = stmt
            .column_names()
            .iter()
            .enumerate()
            .filter(|(_, name)| **name != "last_used_at")
            .map(|(i, _)| i)
            .collect();
        let mut dump: Vec<String> = stmt
            .query_map([], |row| {
                let mut cells = Vec::with_capacity(kept.len());
                for i in &kept {
                    cells.push(format!("{:?}", row.get_ref(*i)?));
                }
                Ok(cells.join("|"))
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        dump.sort();
        rows.insert(table, dump);
    }
    let mut files = BTreeMap::new();
    walk(data, data, &mut files);
    Snapshot { rows, files }
}

fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, (u64, u64)>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        let relative = path.strip_prefix(root).expect("inside").to_path_buf();
        if relative.to_string_lossy().starts_with("sofathek.db") {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        if meta.is_dir() {
            files.insert(relative, (u64::MAX, 0));
            walk(root, &path, files);
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).expect("link");
            files.insert(
                relative,
                (u64::MAX - 1, hash(target.to_string_lossy().as_bytes())),
            );
        } else {
            let bytes = std::fs::read(&path).expect("read");
            files.insert(relative, (bytes.len() as u64, hash(&bytes)));
        }
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// The machine's own host name when it resolves (through /etc/hosts, without DNS) to an
/// address the URL policy forbids.
async fn private_host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()?
        .trim()
        .to_owned();
    if name.is_empty() || name.contains('.') && name.ends_with(".local") {
        return None;
    }
    let addrs: Vec<_> = tokio::net::lookup_host((name.as_str(), 80))
        .await
        .ok()?
        .collect();
    (!addrs.is_empty()
        && addrs
            .iter()
            .all(|a| sofathek::urlpolicy::is_forbidden_ip(a.ip())))
    .then_some(name)
}

/// Runs one group of rows against a fresh server (one catalogue with the three videos of the
/// original layout, a user category, symlinks leading outside the library, private URLs
/// forbidden, a small upload limit): every row must get its status, the JSON error envelope
/// (with its code, where pinned) wherever the API answers, no data-directory path in a message,
/// and change neither the catalogue nor the data directory. `rows` gets the name of a video the
/// catalogue knows.
async fn check_rows(group: &str, rows: impl FnOnce(&str) -> Vec<Case>) {
    let fixtures = tempfile::tempdir().expect("tempdir");
    let library_src = fixtures.path().join("original");
    std::fs::create_dir_all(&library_src).expect("dir");
    support::original_library(&library_src);

    let server = TestServer::start_configured(|config, _| {
        config.x264_preset = "ultrafast".to_owned();
        config.allow_private_urls = false;
        config.max_upload_bytes = MAX_UPLOAD;
        config.rate_limit_max_requests = 1_000_000;
    })
    .await;
    let report = server.import(&library_src).await;
    assert_eq!(report.imported.len(), 3, "{report:?}");
    let video = report
        .imported
        .iter()
        .find(|n| n.starts_with("Test_Video"))
        .expect("imported video")
        .clone();
    let client = support::client();
    let created = client
        .post(server.url("/api/categories"))
        .json(&json!({"name": "Dinosaurs"}))
        .send()
        .await
        .expect("create category");
    assert_eq!(created.status().as_u16(), 201);
    for name in ["escape.mp4", "escape.webp"] {
        std::os::unix::fs::symlink("/etc/hostname", server.library().join(name)).expect("symlink");
    }

    let data = server.state.layout.data.clone();
    let cases = rows(&video);
    assert!(!cases.is_empty(), "the {group} group has no rows");
    let initial = snapshot(&data);
    let mut before = snapshot(&data);
    let mut failures = Vec::new();
    for case in &cases {
        let raw = send(server.addr, support::TEST_TOKEN, case).await;
        let mut problems = Vec::new();
        if raw.status != case.status {
            problems.push(format!("status {} (expected {})", raw.status, case.status));
        }
        if case.json {
            match serde_json::from_slice::<Value>(&raw.body) {
                Ok(body) if body["status"] == "error" && body["message"].is_string() => {
                    if let Some(code) = case.code {
                        if body["code"] != code {
                            problems.push(format!("code {} (expected {code})", body["code"]));
                        }
                    }
                    if body["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(&*data.to_string_lossy()))
                    {
                        problems.push("the message shows the data directory".into());
                    }
                }
                _ => problems.push(format!(
                    "not the JSON error envelope: {:?} {}",
                    raw.headers.iter().find(|(n, _)| n == "content-type"),
                    String::from_utf8_lossy(&raw.body[..raw.body.len().min(200)])
                )),
            }
        }
        let after = snapshot(&data);
        if after != before {
            problems.push(format!(
                "changed the catalogue or the data directory: {}",
                diff(&before, &after)
            ));
            before = after;
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({} {}): {}",
                case.name,
                case.method,
                truncate(&case.target),
                problems.join("; ")
            ));
        }
    }
    let last = snapshot(&data);
    if last != initial {
        failures.push(format!(
            "the {group} group as a whole changed: {}",
            diff(&initial, &last)
        ));
    }
    // The server is still serving.
    let health = client
        .get(server.url("/api/videos"))
        .send()
        .await
        .expect("listing");
    assert_eq!(health.status().as_u16(), 200);
    server.stop_within(Duration::from_secs(15)).await;
    println!(
        "bad-input corpus, {group}: {} hostile requests, {} failures",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows of the {group} group failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_routes_refuse_traversal_and_hostile_names() {
    check_rows("file routes", file_route_rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_range_and_conditional_headers_are_refused() {
    check_rows("Range and preconditions", range_rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_forged_credentials_are_refused() {
    check_rows("credentials", credential_rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_methods_and_routes_are_refused() {
    check_rows("methods and routes", method_and_route_rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_listing_parameters_are_refused_or_taken_literally() {
    check_rows("listing parameters", |_| listing_query_rows()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_bodies_are_refused() {
    check_rows("JSON bodies", json_body_rows).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_url_submissions_are_refused() {
    let private_host = private_host_name().await;
    if private_host.is_none() {
        println!(
            "note: this machine's host name does not resolve to a private address; that row is left out"
        );
    }
    check_rows("URL submissions", |_| url_rows(private_host.as_deref())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_disguised_uploads_are_refused() {
    let fixtures = tempfile::tempdir().expect("tempdir");
    let media = media(fixtures.path());
    check_rows("uploads", |_| upload_rows(&media)).await;
}

/// The groups together keep the corpus's breadth. The rows' number depends neither on the
/// video's name nor on the fixtures' bytes, so none are made here.
#[tokio::test]
async fn the_corpus_has_at_least_100_rows() {
    let private_host = private_host_name().await;
    let media = Media {
        mp4: Vec::new(),
        mp4_tail_moov: Vec::new(),
        png: Vec::new(),
        mp3: Vec::new(),
    };
    let cases = corpus("Test_Video-abc123.mp4", &media, private_host.as_deref());
    assert!(
        cases.len() >= 100,
        "the corpus has only {} rows",
        cases.len()
    );
}

fn diff(before: &Snapshot, after: &Snapshot) -> String {
    let mut out = Vec::new();
    for (table, rows) in &after.rows {
        if before.rows.get(table) != Some(rows) {
            out.push(format!("table {table}"));
        }
    }
    for (path, file) in &after.files {
        if before.files.get(path) != Some(file) {
            out.push(format!("file {}", path.display()));
        }
    }
    for path in before.files.keys() {
        if !after.files.contains_key(path) {
            out.push(format!("removed {}", path.display()));
        }
    }
    out.join(", ")
}
