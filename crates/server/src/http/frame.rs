//! The frame around every request: its id, its span, credentials hidden from debug output,
//! and the security headers on every response — one layer ([`FrameLayer`]) with one future
//! that is not boxed.
//!
//! It replaces seven stacked `tower-http` layers (request id set and propagated, sensitive
//! headers, trace, four response headers) that did the same work. A 64 KiB range request is the
//! server's most frequent request, and there the stack cost ~11k of ~53k user-space instructions
//! (callgrind) and ~14 % of the CPU time (`scripts/bench-stream`): every layer moves the request
//! and its future once more, and the trace layer wraps every body chunk.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use tower::{Layer, Service};
use tracing::Instrument;
use tracing::instrument::Instrumented;

/// The request id header: kept when the client sends one, else made here; always answered.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const CSP: &str = "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; \
    script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Sent on every response that does not set them itself.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    (
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    ),
    (
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    ),
    (
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    ),
];

/// The span a request's log lines carry (method, path, request id). The file routes' span is
/// at debug level: a player asks for a video in many ranges, and formatting the span's fields
/// for the JSON log was the largest single cost of a range request in user space (~9k of ~63k
/// instructions, callgrind). Their warnings name the file, so at info level (production) they
/// lose only the request id; at debug level (development, staging) they keep it.
pub fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let (method, path) = (req.method(), req.uri().path());
    let file_route = ["/api/stream/", "/api/thumbnails/", "/api/download/"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    if file_route {
        tracing::debug_span!("request", method = %method, uri = %path, request_id = %id)
    } else {
        tracing::info_span!("request", method = %method, uri = %path, request_id = %id)
    }
}

/// Frames every request of the service it wraps (see the module documentation).
#[derive(Clone)]
pub struct FrameLayer {
    ids: RequestIds,
}

impl Default for FrameLayer {
    fn default() -> FrameLayer {
        FrameLayer {
            ids: RequestIds::new(),
        }
    }
}

impl<S> Layer<S> for FrameLayer {
    type Service = Frame<S>;

    fn layer(&self, inner: S) -> Frame<S> {
        Frame {
            inner,
            ids: self.ids.clone(),
        }
    }
}

/// The service [`FrameLayer`] makes.
#[derive(Clone)]
pub struct Frame<S> {
    inner: S,
    ids: RequestIds,
}

impl<S> Service<Request> for Frame<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = FrameFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> FrameFuture<S::Future> {
        let headers = request.headers_mut();
        let id = match headers.get(&REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = self.ids.next();
                headers.insert(REQUEST_ID, id.clone());
                id
            }
        };
        // Kept out of any debug output of the request (`HeaderValue`'s Debug shows
        // "Sensitive").
        hide(headers, AUTHORIZATION);
        hide(headers, COOKIE);
        let span = request_span(&request);
        let began = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
        if began.is_some() {
            span.in_scope(|| tracing::debug!("started processing request"));
        }
        FrameFuture {
            inner: self.inner.call(request).instrument(span),
            id,
            began,
        }
    }
}

fn hide(headers: &mut HeaderMap, name: HeaderName) {
    if let axum::http::header::Entry::Occupied(mut entry) = headers.entry(name) {
        for value in entry.iter_mut() {
            value.set_sensitive(true);
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Frame`]: the inner one in the request's span, then the
    /// response's frame headers and its log lines.
    pub struct FrameFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        id: HeaderValue,
        // Set when debug logging is on (the "finished" line gives the latency).
        began: Option<Instant>,
    }
}

impl<F, E> Future for FrameFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let mut result = ready!(this.inner.as_mut().poll(cx));
        if let Ok(response) = &mut result {
            let headers = response.headers_mut();
            if !headers.contains_key(&REQUEST_ID) {
                headers.insert(REQUEST_ID, this.id.clone());
            }
            for (name, value) in SECURITY_HEADERS {
                headers.entry(name).or_insert(value);
            }
            let status = response.status();
            let _entered = this.inner.span().enter();
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), "response failed");
            }
            if let Some(began) = this.began {
                let latency_ms = began.elapsed().as_secs_f64() * 1000.0;
                tracing::debug!(
                    status = status.as_u16(),
                    latency_ms,
                    "finished processing request"
                );
            }
        }
        Poll::Ready(result)
    }
}

/// Request ids for requests without one: a random per-process prefix and a counter, unique
/// across restarts without a random-number syscall per request.
#[derive(Clone)]
struct RequestIds {
    prefix: u64,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    fn new() -> RequestIds {
        let mut bytes = [0u8; 8];
        // Without randomness the ids are still unique within the process.
        let _ = getrandom::fill(&mut bytes);
        RequestIds {
            prefix: u64::from_le_bytes(bytes) >> 16,
            next: Arc::new(AtomicU64::new(1)),
        }
    }

    /// `<12 hex digits of the prefix>-<the counter in hex, at least 8 digits>`, as
    /// `format!("{:012x}-{n:08x}")` writes it, without formatting machinery.
    fn next(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let digits = (64 - n.leading_zeros() as usize).div_ceil(4).max(8);
        let mut id = [b'-'; 12 + 1 + 16];
        write_hex(self.prefix, &mut id[..12]);
        write_hex(n, &mut id[13..13 + digits]);
        match HeaderValue::from_bytes(&id[..13 + digits]) {
            Ok(id) => id,
            // Hex digits and a dash are always a valid value.
            Err(_) => HeaderValue::from_static("-"),
        }
    }
}

/// The lowest `out.len()` hex digits of `value`, most significant first.
fn write_hex(mut value: u64, out: &mut [u8]) {
    for digit in out.iter_mut().rev() {
        *digit = b"0123456789abcdef"[(value & 0xf) as usize];
        value >>= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made ids look as `format!("{:012x}-{n:08x}")` writes them and never repeat.
    #[test]
    fn request_ids_are_hex_prefix_and_counter() {
        let ids = RequestIds {
            prefix: 0xabc_def0_1234,
            next: Arc::new(AtomicU64::new(1)),
        };
        assert_eq!(ids.next(), "0abcdef01234-00000001");
        ids.next.store(0x1_2345_6789, Ordering::Relaxed);
        assert_eq!(ids.next(), "0abcdef01234-123456789");
        ids.next.store(u64::MAX, Ordering::Relaxed);
        assert_eq!(ids.next(), "0abcdef01234-ffffffffffffffff");
        let made = RequestIds::new();
        assert_ne!(made.next(), made.next());
    }

    /// The file routes' span is debug level (not built under production's info filter); every
    /// other route's is info level, with the request id either way.
    #[test]
    fn file_routes_have_a_debug_span() {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(std::io::sink)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let level = |path: &str| {
                let request = Request::builder()
                    .uri(path)
                    .header(&REQUEST_ID, "r-1")
                    .body(axum::body::Body::empty())
                    .expect("request");
                let span = request_span(&request);
                let metadata = span.metadata().expect("an enabled span");
                assert!(metadata.fields().field("request_id").is_some());
                *metadata.level()
            };
            for path in [
                "/api/stream/a.mp4",
                "/api/thumbnails/a.jpg",
                "/api/download/a.mp3",
            ] {
                assert_eq!(level(path), tracing::Level::DEBUG, "{path}");
            }
            for path in ["/api/videos", "/api/streams", "/", "/watch/x"] {
                assert_eq!(level(path), tracing::Level::INFO, "{path}");
            }
        });
    }
}
