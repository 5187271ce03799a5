//! Memos of hot point lookups, so that streaming a 64 KiB range does not cost SQLite queries.
//!
//! Every file request reads who is asking (password set? which session or token?) and which
//! video owns the file. Each of those is a SQLite read transaction (file locks, a statement, a
//! page-cache check): measured, ~15 µs of the ~58 µs of CPU a 64 KiB range request took. A
//! [`Memo`] keeps recent answers and returns one only while it is certainly current:
//!
//! - **in-process writes**: [`Db`](sofathek_db::Db) counts committed write transactions; an answer read
//!   before the latest commit is never used again (every write invalidates every memo, which is
//!   simple and cheap because writes are rare next to reads);
//! - **writes by another process** (`sofathek admin …` or `sofathek import` while the server
//!   runs): an answer is used for at most [`MAX_AGE`] after it was read.
//!
//! Entries are bounded: a full memo is emptied rather than evicted entry by entry, so a client
//! sending many distinct keys cannot grow the server's memory.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer may be used without asking the database again: the longest a change made
/// by another process (the CLI) goes unseen by the server.
pub const MAX_AGE: Duration = Duration::from_secs(1);

struct Entry<V> {
    /// [`Db::generation`](sofathek_db::Db::generation) when the answer was read.
    generation: u64,
    read_at: Instant,
    value: V,
}

/// Recent answers of one kind of lookup, keyed by what was asked.
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// A memo holding at most `capacity` answers.
    pub fn new(capacity: usize) -> Memo<K, V> {
        Memo {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The answer for `key` if it was read at `generation` less than [`MAX_AGE`] ago.
    pub fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation && e.read_at.elapsed() < MAX_AGE)
            .map(|e| e.value.clone())
    }

    /// Records the answer for `key`, read when the write count was `generation`.
    pub fn put(&self, key: K, generation: u64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                generation,
                read_at: Instant::now(),
                value,
            },
        );
    }

    /// Drops every answer that can no longer be used at `generation` (so that what they hold,
    /// such as open files, is released).
    pub fn purge(&self, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, e| e.generation == generation && e.read_at.elapsed() < MAX_AGE);
    }

    /// Number of answers held (for tests).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K, V> std::fmt::Debug for Memo<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.entries.lock().map_or(0, |e| e.len());
        f.debug_struct("Memo")
            .field("held", &held)
            .field("capacity", &self.capacity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_only_for_the_generation_it_was_read_at() {
        let memo = Memo::new(4);
        memo.put("a", 7, 1);
        assert_eq!(memo.get("a", 7), Some(1));
        assert_eq!(memo.get("a", 8), None, "a later write makes it stale");
        assert_eq!(memo.get("b", 7), None);
    }

    #[test]
    fn answers_expire_after_max_age() {
        let memo = Memo::new(4);
        memo.put("a", 1, 1);
        let mut entries = memo.entries.lock().unwrap();
        let entry = entries.get_mut("a").unwrap();
        entry.read_at = Instant::now().checked_sub(MAX_AGE).unwrap();
        drop(entries);
        assert_eq!(memo.get("a", 1), None);
    }

    #[test]
    fn purge_drops_what_cannot_be_used() {
        let memo = Memo::new(4);
        memo.put("old", 1, 1);
        memo.put("new", 2, 2);
        memo.purge(2);
        assert_eq!(memo.len(), 1);
        assert_eq!(memo.get("new", 2), Some(2));
    }

    #[test]
    fn stays_within_its_capacity() {
        let memo = Memo::new(3);
        for i in 0..10 {
            memo.put(i, 0, i);
            assert!(memo.len() <= 3);
        }
        assert_eq!(memo.get(&9, 0), Some(9), "the newest answer is kept");

        let memo = Memo::new(3);
        for i in 0..3 {
            memo.put(i, 0, i);
        }
        memo.put(1, 0, 10);
        assert_eq!(memo.get(&1, 0), Some(10));
        assert_eq!(
            memo.get(&0, 0),
            Some(0),
            "replacing an answer does not empty a full memo"
        );
    }
}
