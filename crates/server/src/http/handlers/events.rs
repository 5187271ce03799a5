//! `GET /api/events`: Server-Sent Events from the event bus — `job` (progress, state changes),
//! `source` (a source was checked or changed), `library.added|updated|removed`, and a
//! heartbeat comment every 15 s. A kid's stream has no job or source events and only library
//! events of its allowed categories. A stream ends when its
//! credentials stop giving the access it was opened with (see `access_changed`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::http::AppState;
use sofathek_core::auth::Access;
use sofathek_core::events::Event;
use sofathek_ingest::view::{JobView, SourceView};

/// Time between two heartbeat comments.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How often a stream checks that its credentials still give the access it started with.
pub const ACCESS_CHECK: Duration = Duration::from_secs(2);

/// The `data:` of a job or source event: the API's view under the event's name as `type`
/// (library events serialise themselves: `{type, id}`).
#[derive(serde::Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Payload {
    Job { job: JobView },
    Source { source: SourceView },
}

/// The event stream; a client that falls behind misses events (and should reload the jobs).
#[utoipa::path(get, path = "/api/events", tag = "jobs",
    responses((status = 200, description = "text/event-stream: `event: job` with `{type:\"job\", job}`, `event: library.added|library.updated|library.removed` with `{type, id}`", content_type = "text/event-stream", body = String)))]
pub async fn stream(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let changed = access_changed(state.clone(), headers, access.clone());
    let limited = access.allowed_categories().is_some();
    let ingest = state.ingest.clone();
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(move |message| {
        let event = message.ok()?;
        if limited {
            let categories = event.library_categories()?;
            if !categories.iter().any(|c| access.can_see(*c)) {
                return None;
            }
        }
        // `type` repeats the SSE event name (`job`, `library.added`, ...).
        let data = match &event {
            Event::Job { job } => serde_json::to_string(&Payload::Job {
                job: JobView::new(job),
            }),
            Event::Source { source } => serde_json::to_string(&Payload::Source {
                source: SourceView::new(source, ingest.is_checking(&source.id)),
            }),
            library => serde_json::to_string(library),
        }
        .ok()?;
        Some(Ok(SseEvent::default().event(event.name()).data(data)))
    });
    let events =
        futures_util::StreamExt::take_until(events, state.ingest.closing().cancelled_owned());
    let events = futures_util::StreamExt::take_until(events, changed);
    Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}

/// Resolves once the request's credentials no longer give `access`: the session was signed
/// out or revoked (a password change), it expired, the token was revoked, the kid's categories
/// changed, or the first-run setup happened. The stream then ends, and the browser's
/// `EventSource` reconnects with whatever access it has now (or is refused). Checks every
/// [`ACCESS_CHECK`]; a check is a memo lookup unless something was written meanwhile.
async fn access_changed(state: AppState, headers: HeaderMap, access: Access) {
    let mut every = tokio::time::interval(ACCESS_CHECK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        match crate::http::auth::resolve(&state, &headers).await {
            Ok(now) if now == access => {}
            _ => return,
        }
    }
}
