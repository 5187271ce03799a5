//! In-process event bus for `GET /api/events` (Server-Sent Events): job progress and state,
//! library changes. Publishers never block; slow subscribers miss events and resynchronise.

use serde::Serialize;
use sofathek_db::jobs::JobRecord;
use sofathek_db::sources::SourceRecord;
use tokio::sync::broadcast;

/// One event. The SSE handler sends `name()` as the `event:` field and a JSON `data:` payload
/// whose `type` is the same name: the library events serialise as they are (`{type, id}`), a
/// job event is rendered by the server with the job's API representation (`{type, job}`), a
/// source event with the source's (`{type, source}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum Event {
    /// A job changed state or progressed.
    #[serde(rename = "job")]
    Job {
        #[serde(skip)]
        job: Box<JobRecord>,
    },
    /// A source (channel, playlist, feed) was checked or changed; parents only.
    #[serde(rename = "source")]
    Source {
        #[serde(skip)]
        source: Box<SourceRecord>,
    },
    /// A video appeared in the library.
    #[serde(rename = "library.added")]
    LibraryAdded {
        id: String,
        /// Its category (not sent: decides which kid profiles hear of it).
        #[serde(skip)]
        category: Option<String>,
    },
    /// A video's title or category changed.
    #[serde(rename = "library.updated")]
    LibraryUpdated {
        id: String,
        /// Its category before and after the change (not sent).
        #[serde(skip)]
        categories: [Option<String>; 2],
    },
    /// A video was deleted.
    #[serde(rename = "library.removed")]
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
            Event::Source { .. } => "source",
            Event::LibraryAdded { .. } => "library.added",
            Event::LibraryUpdated { .. } => "library.updated",
            Event::LibraryRemoved { .. } => "library.removed",
        }
    }

    /// The categories a library event concerns (a kid hears of it when one is allowed);
    /// `None` for job and source events.
    pub fn library_categories(&self) -> Option<Vec<Option<&str>>> {
        match self {
            Event::Job { .. } | Event::Source { .. } => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_events_serialise_with_their_sse_name_and_without_categories() {
        let added = Event::LibraryAdded {
            id: "v1".into(),
            category: Some("nature".into()),
        };
        assert_eq!(
            serde_json::to_value(&added).expect("json"),
            serde_json::json!({"type": "library.added", "id": "v1"})
        );
        assert_eq!(added.name(), "library.added");
        let updated = Event::LibraryUpdated {
            id: "v2".into(),
            categories: [None, Some("kids".into())],
        };
        assert_eq!(
            serde_json::to_value(&updated).expect("json")["type"],
            updated.name()
        );
        let removed = Event::LibraryRemoved {
            id: "v3".into(),
            category: None,
        };
        assert_eq!(
            serde_json::to_value(&removed).expect("json")["type"],
            removed.name()
        );
    }
}
