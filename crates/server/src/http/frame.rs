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
        FrameFuture {
            inner: self.inner.call(request).instrument(span),
            id,
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
    /// response's frame headers (and an error line for a server error).
    pub struct FrameFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        id: HeaderValue,
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
            headers.entry(REQUEST_ID).or_insert_with(|| this.id.clone());
            for (name, value) in SECURITY_HEADERS {
                headers.entry(name).or_insert(value);
            }
            let status = response.status();
            if status.is_server_error() {
                let _entered = this.inner.span().enter();
                tracing::error!(status = status.as_u16(), "response failed");
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

    /// The frame's work on one request and its response, seen from the inner service.
    #[tokio::test]
    async fn frames_requests_and_responses() {
        use axum::http::header::CONTENT_SECURITY_POLICY;
        use tower::ServiceExt;
        let inner = tower::service_fn(|request: Request| async move {
            let headers = request.headers();
            // What the handler sees: the request's id, and credentials marked sensitive.
            let id = headers.get(&REQUEST_ID).expect("an id").clone();
            let hidden = [AUTHORIZATION, COOKIE]
                .iter()
                .flat_map(|name| headers.get_all(name))
                .all(HeaderValue::is_sensitive);
            let mut response = Response::new(axum::body::Body::empty());
            response.headers_mut().insert("seen-id", id);
            response.headers_mut().insert(
                "hidden",
                HeaderValue::from_static(if hidden { "yes" } else { "no" }),
            );
            if request.uri().path() == "/own-csp" {
                response
                    .headers_mut()
                    .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
            }
            Ok::<_, std::convert::Infallible>(response)
        });
        let frame = FrameLayer::default().layer(inner);
        let call = |request: Request| frame.clone().oneshot(request);

        let request = Request::builder()
            .uri("/api/videos")
            .header(AUTHORIZATION, "Bearer sft_x")
            .header(COOKIE, "a=1")
            .header(COOKIE, "b=2")
            .body(axum::body::Body::empty())
            .expect("request");
        let response = call(request).await.expect("infallible");
        let headers = response.headers();
        let id = headers.get(&REQUEST_ID).expect("an id answered");
        assert_eq!(Some(id), headers.get("seen-id"), "the id the handler saw");
        assert_eq!(id.len(), 21, "{id:?}");
        assert_eq!(headers["hidden"], "yes");
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(headers.get(&name), Some(&value), "{name}");
        }

        // A client's id is kept; a header the handler set is not replaced.
        let request = Request::builder()
            .uri("/own-csp")
            .header(&REQUEST_ID, "abc-123")
            .body(axum::body::Body::empty())
            .expect("request");
        let response = call(request).await.expect("infallible");
        assert_eq!(response.headers()[&REQUEST_ID], "abc-123");
        assert_eq!(response.headers()["seen-id"], "abc-123");
        assert_eq!(response.headers()[CONTENT_SECURITY_POLICY], "sandbox");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }

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
