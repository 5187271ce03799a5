//! In-process event bus for `GET /api/events` (Server-Sent Events): job progress and state,
//! library changes. Publishers never block; slow subscribers miss events and resynchronise.

use serde::Serialize;
use tokio::sync::broadcast;

/// One event, serialised as the SSE `data:` payload; `name()` is the SSE `event:` field.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// A job changed state or progressed (the job's API representation).
    Job { job: serde_json::Value },
    /// A video appeared in the library.
    LibraryAdded { id: String },
    /// A video's title or category changed.
    LibraryUpdated { id: String },
    /// A video was deleted.
    LibraryRemoved { id: String },
}

impl Event {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Job { .. } => "job",
            Event::LibraryAdded { .. } => "library.added",
            Event::LibraryUpdated { .. } => "library.updated",
            Event::LibraryRemoved { .. } => "library.removed",
        }
    }
}

/// The bus; cheap to clone.
#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    pub fn new() -> Events {
        let (tx, _) = broadcast::channel(1024);
        Events { tx }
    }

    /// Sends to every current subscriber (none is fine).
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
