//! `GET /__livereload` (development only): a Server-Sent Events stream that says `reload`
//! whenever a file under the web dir's `templates/` or `assets/` (or its `manifest.json`)
//! changes.
//!
//! A poller compares a stamp of those files every [`POLL`] while at least one browser
//! listens (a change is announced once two polls agree, at most 2 × `POLL` after the last
//! write), and stops when the last one leaves. Every stream starts with a `hello` event
//! carrying this process's boot id: a page that sees a different id after reconnecting knows
//! the server was restarted (a Rust change) and reloads too. In staging and production the
//! route answers 404 like any unknown path.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;

use super::site::Site;
use sofathek_http::state::AppState;

/// How often the files are compared while someone listens.
pub(crate) const POLL: Duration = Duration::from_millis(200);

/// Change notifications for one site.
pub(crate) struct LiveReload {
    /// Incremented on every detected change.
    generation: watch::Sender<u64>,
    polling: AtomicBool,
    boot_id: String,
}

impl LiveReload {
    pub(crate) fn new() -> LiveReload {
        LiveReload {
            generation: watch::Sender::new(0),
            polling: AtomicBool::new(false),
            boot_id: uuid::Uuid::new_v4().to_string(),
        }
    }
}

/// Starts the poller unless it runs already; it ends when nobody listens any more.
fn ensure_polling(site: &Arc<Site>) {
    if site.reload.polling.swap(true, Ordering::AcqRel) {
        return;
    }
    let site = site.clone();
    tokio::spawn(async move {
        let stamp_of = |site: Arc<Site>| async move {
            tokio::task::spawn_blocking(move || site.content_stamp())
                .await
                .unwrap_or_default()
        };
        let mut last = stamp_of(site.clone()).await;
        let mut previous = last;
        let mut ticker = tokio::time::interval(POLL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if site.reload.generation.receiver_count() == 0 {
                site.reload.polling.store(false, Ordering::Release);
                // A browser may have subscribed between the check and the store.
                if site.reload.generation.receiver_count() == 0
                    || site.reload.polling.swap(true, Ordering::AcqRel)
                {
                    return;
                }
            }
            // Fire once the files are the same on two polls in a row, so a build that
            // rewrites several files reloads the browsers once, after it finished.
            let now = stamp_of(site.clone()).await;
            if now == previous && now != last {
                last = now;
                tracing::debug!(web_dir = %site.web_dir.display(), "web files changed: reloading browsers");
                site.reload.generation.send_modify(|g| *g += 1);
            }
            previous = now;
        }
    });
}

/// The live-reload event stream, or 404 outside development.
pub(crate) async fn events(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let site = Site::for_config(&state.config);
    if !site.is_development() {
        return sofathek_http::error::not_found(OriginalUri(uri))
            .await
            .into_response();
    }
    let receiver = site.reload.generation.subscribe();
    ensure_polling(&site);
    // `retry` makes the browser reconnect quickly after a restart of the server.
    let hello = Event::default()
        .event("hello")
        .retry(Duration::from_millis(300))
        .data(site.reload.boot_id.clone());
    let changes = WatchStream::from_changes(receiver).map(|generation| {
        Ok::<_, Infallible>(
            Event::default()
                .event("reload")
                .data(generation.to_string()),
        )
    });
    // The stream ends when the server begins to stop, so a graceful shutdown does not wait
    // for open pages.
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(hello) })
        .chain(changes)
        .take_until(state.ingest.closing().cancelled_owned());
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}
