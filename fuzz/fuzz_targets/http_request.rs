//! Fuzzes whole requests through the real router, in process, on a one-video library: any
//! method, path segment, query, conditional/Range headers, content type and body. No request may
//! get a 5xx, and every 4xx from the API must be the JSON error envelope.
#![no_main]

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use libfuzzer_sys::fuzz_target;
use sofathek_fuzz::{
    Harness, Input, SUBTITLE_FILE, THUMB_FILE, VIDEO_FILE, VIDEO_ID, check_answer,
};

/// Path templates; `{}` is replaced by the fuzzed segment. Left out: endless streams (SSE), the
/// health report (tool version checks), URL submissions (they resolve host names; the
/// `url_policy` target covers their syntax) and uploads (the `multipart_upload` target).
const TEMPLATES: &[&str] = &[
    "/api/stream/{}",
    "/api/download/{}",
    "/api/thumbnails/{}",
    "/api/videos/{}",
    "/api/videos?{}",
    "/api/categories",
    "/api/categories/{}",
    "/api/jobs/{}",
    "/api/jobs/{}/retry",
    "/api/youtube/download/{}",
    "/api/youtube/download/{}/status",
    "/api/youtube/queue",
    "/api/youtube/queue/cleanup",
    "/api/openapi.json",
    "/api/profiles",
    "/api/profiles/{}",
    "/api/session",
    "/api/setup",
    "/api/tokens",
    "/api/tokens/{}",
    "/api/progress",
    "/api/progress/{}",
    "/watch/{}",
    "/assets/{}",
    "/{}",
    "/api/{}",
];

const METHODS: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PATCH,
    Method::PUT,
    Method::OPTIONS,
    Method::DELETE,
];

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "multipart/form-data; boundary=XyZ",
    "application/x-www-form-urlencoded",
];

const HEADERS: &[HeaderName] = &[
    header::RANGE,
    header::IF_RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::ACCEPT,
    header::ORIGIN,
];

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let method = METHODS[usize::from(input.byte()) % METHODS.len()].clone();
    let template = TEMPLATES[usize::from(input.byte()) % TEMPLATES.len()];
    let fuzzed = input.text();
    let segment = match input.byte() % 5 {
        0 => VIDEO_FILE.to_owned(),
        1 => format!("{fuzzed}{VIDEO_FILE}"),
        2 => format!("{VIDEO_ID}{fuzzed}"),
        3 => [THUMB_FILE, SUBTITLE_FILE][usize::from(input.byte() % 2)].to_owned(),
        _ => fuzzed,
    };
    if method == Method::DELETE && template == "/api/videos/{}" && segment == VIDEO_ID {
        return; // the one fixture video stays, so every input meets the same library
    }
    if method == Method::DELETE && template == "/api/tokens/{}" {
        return; // and the harness keeps its token
    }
    let Some(uri) = uri(template, &segment) else {
        return;
    };
    let harness = Harness::get();
    let mut builder = Request::builder().method(method.clone()).uri(uri.as_str());
    // Mostly the parent's token, so inputs reach the handlers; sometimes none or a forged one.
    let credential = match input.byte() % 8 {
        6 => None,
        7 => Some(input.text()),
        _ => Some(format!("Bearer {}", harness.token)),
    };
    if let Some(value) = credential.and_then(|c| HeaderValue::from_str(&c).ok()) {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    let mut sent_headers = Vec::new();
    for name in HEADERS {
        let value = input.field();
        if value.is_empty() {
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(value) {
            sent_headers.push(format!("{name}: {value:?}"));
            builder = builder.header(name, value);
        }
    }
    let choice = usize::from(input.byte());
    let content_type = CONTENT_TYPES.get(choice % 8).copied().map(str::to_owned);
    let content_type = content_type.unwrap_or_else(|| input.text());
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        builder = builder.header(header::CONTENT_TYPE, value);
    }
    let body = input.rest().to_vec();
    let Ok(request) = builder.body(Body::from(body)) else {
        return;
    };
    let answer = harness.send(request);
    let what = format!("{method} {uri} {sent_headers:?} content-type {content_type:?}");
    check_answer(&what, &uri, &answer);
});

/// The request target for a template and segment: the segment as given when it makes a valid
/// URI, else percent-encoded.
fn uri(template: &str, segment: &str) -> Option<String> {
    let raw = template.replace("{}", segment);
    if raw.parse::<axum::http::Uri>().is_ok() {
        return Some(raw);
    }
    let mut encoded = String::new();
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%/?".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let encoded = template.replace("{}", &encoded);
    encoded
        .parse::<axum::http::Uri>()
        .is_ok()
        .then_some(encoded)
}
