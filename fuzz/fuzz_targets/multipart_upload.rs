//! Fuzzes the upload path: `POST /api/videos/upload` through the real router with fuzzed
//! multipart bodies (boundaries, part headers, field names, file names, sizes around the upload
//! limit) and fuzzed `Content-Type`/`Content-Length` headers. No 5xx, every refusal is the JSON
//! envelope, nothing is accepted (the harness's ffprobe refuses everything), and a refused
//! upload leaves nothing behind in the staging area.
#![no_main]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use libfuzzer_sys::fuzz_target;
use sofathek_fuzz::{Harness, Input, MAX_UPLOAD_BYTES, check_answer};

const NAMES: &[&str] = &["video", "file", "title", "category", "audio", "other", ""];

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let shape = input.byte();
    let boundary = if shape & 1 == 0 {
        "XyZ".to_owned()
    } else {
        input.text()
    };
    let content_type = match shape >> 1 & 3 {
        0 => format!("multipart/form-data; boundary={boundary}"),
        1 => format!("multipart/form-data; boundary=\"{boundary}\""),
        2 => "multipart/form-data".to_owned(),
        _ => input.text(),
    };
    let body = if shape >> 3 & 1 == 0 {
        structured(&mut input, &boundary)
    } else {
        input.rest().to_vec()
    };
    let harness = Harness::get();
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri("/api/videos/upload")
        .header(header::AUTHORIZATION, format!("Bearer {}", harness.token));
    if let Ok(value) = header::HeaderValue::from_str(&content_type) {
        builder = builder.header(header::CONTENT_TYPE, value);
    }
    if shape >> 4 & 1 == 1 {
        builder = builder.header(header::CONTENT_LENGTH, body.len() as u64 * 1000 + 1);
    }
    let Ok(request) = builder.body(Body::from(body)) else {
        return;
    };
    let answer = harness.send(request);
    check_answer(
        &format!("upload with content type {content_type:?}"),
        "/api/videos/upload",
        &answer,
    );
    assert_ne!(
        answer.status,
        StatusCode::ACCEPTED,
        "an upload was accepted though ffprobe refuses all"
    );
    let left: Vec<_> = std::fs::read_dir(&harness.state.layout.staging)
        .expect("staging directory")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.is_empty(),
        "a refused upload left {left:?} in the staging area"
    );
});

/// A multipart body from the input: parts with fuzzed names, file names, headers and contents,
/// and sometimes a file just below, at or above the upload limit.
fn structured(input: &mut Input<'_>, boundary: &str) -> Vec<u8> {
    let mut body = Vec::new();
    let parts = input.byte() % 5;
    for _ in 0..parts {
        let choice = input.byte();
        let name = match NAMES.get(usize::from(choice % 8)) {
            Some(name) => (*name).to_owned(),
            None => input.text(),
        };
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Disposition: form-data; name=\"");
        body.extend_from_slice(name.as_bytes());
        body.push(b'"');
        if choice & 0x10 != 0 {
            body.extend_from_slice(b"; filename=\"");
            body.extend_from_slice(input.field());
            body.push(b'"');
        }
        body.extend_from_slice(b"\r\n");
        if choice & 0x20 != 0 {
            body.extend_from_slice(b"Content-Type: ");
            body.extend_from_slice(input.field());
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"\r\n");
        match choice >> 6 {
            0 => body.extend_from_slice(input.field()),
            1 => body.resize(body.len() + MAX_UPLOAD_BYTES as usize, b'x'),
            2 => body.resize(body.len() + MAX_UPLOAD_BYTES as usize + 1, b'x'),
            _ => body.resize(body.len() + usize::from(input.byte()) * 997, 0),
        }
        body.extend_from_slice(b"\r\n");
    }
    if input.byte() & 1 == 0 {
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    } else {
        body.extend_from_slice(input.rest());
    }
    body
}
