//! `GET /api/events`: Server-Sent Events from the event bus — `job` (progress, state changes),
//! `library.added|updated|removed`, and a heartbeat comment every 15 s. A kid's stream has
//! no job events and only library events of its allowed categories.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::auth::Access;
use crate::http::AppState;

/// Time between two heartbeat comments.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The event stream; a client that falls behind misses events (and should reload the jobs).
#[utoipa::path(get, path = "/api/events", tag = "jobs",
    responses((status = 200, description = "text/event-stream: `event: job` with `{type:\"job\", job}`, `event: library.added|library.updated|library.removed` with `{type, id}`", content_type = "text/event-stream", body = String)))]
pub async fn stream(
    State(state): State<AppState>,
    access: Access,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let limited = access.allowed_categories().is_some();
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(move |message| {
        let event = message.ok()?;
        if limited {
            let categories = event.library_categories()?;
            if !categories.iter().any(|c| access.can_see(*c)) {
                return None;
            }
        }
        // `type` repeats the SSE event name (`job`, `library.added`, ...).
        let mut value = serde_json::to_value(&event).ok()?;
        value["type"] = serde_json::Value::from(event.name());
        let data = value.to_string();
        Some(Ok(SseEvent::default().event(event.name()).data(data)))
    });
    let events =
        futures_util::StreamExt::take_until(events, state.ingest.closing().cancelled_owned());
    Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}
