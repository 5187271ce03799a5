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
    LibraryAdded {
        id: String,
        /// Its category (not sent: decides which kid profiles hear of it).
        #[serde(skip)]
        category: Option<String>,
    },
    /// A video's title or category changed.
    LibraryUpdated {
        id: String,
        /// Its category before and after the change (not sent).
        #[serde(skip)]
        categories: [Option<String>; 2],
    },
    /// A video was deleted.
    LibraryRemoved {
        id: String,
        /// The category it had (not sent).
        #[serde(skip)]
        category: Option<String>,
    },
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

    /// The categories a library event concerns (a kid hears of it when one is allowed);
    /// `None` for job events.
    pub fn library_categories(&self) -> Option<Vec<Option<&str>>> {
        match self {
            Event::Job { .. } => None,
            Event::LibraryAdded { category, .. } | Event::LibraryRemoved { category, .. } => {
                Some(vec![category.as_deref()])
            }
            Event::LibraryUpdated { categories, .. } => {
                Some(categories.iter().map(Option::as_deref).collect())
            }
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
