//! The registry of live process groups: what runs now, and killing them all at shutdown.

use super::*;

/// Every live child of this server, so shutdown can stop them all.
///
/// A child is registered when it is spawned and removed once it and its group are gone. Usage at
/// shutdown:
///
/// ```no_run
/// # async fn shutdown() {
/// use std::time::Duration;
/// use sofathek_process::ChildRegistry;
/// let registry = ChildRegistry::global();
/// registry.kill_all();
/// if !registry.wait_idle(Duration::from_secs(5)).await {
///     for child in registry.live() {
///         let _ = sofathek_process::kill_group(child.pid);
///     }
/// }
/// # }
/// ```
pub struct ChildRegistry {
    /// Keyed by a run id rather than the pid, which could in theory be reused by a new child
    /// before an old entry is removed.
    children: Mutex<HashMap<u64, Entry>>,
    next_id: AtomicU64,
    count: watch::Sender<usize>,
}

/// A registered child.
pub(crate) struct Entry {
    pid: u32,
    pub(crate) pgid: Pid,
    program: String,
    label: String,
    cancel: CancellationToken,
}

/// A live child as listed by [`ChildRegistry::live`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildInfo {
    /// Process id, also the process group id.
    pub pid: u32,
    /// Display name of the program.
    pub program: String,
    /// The spec's label (job id).
    pub label: String,
}

pub(crate) static REGISTRY: LazyLock<ChildRegistry> = LazyLock::new(|| ChildRegistry {
    children: Mutex::new(HashMap::new()),
    next_id: AtomicU64::new(0),
    count: watch::Sender::new(0),
});

impl fmt::Debug for ChildRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildRegistry")
            .field("live", &self.len())
            .finish()
    }
}

impl ChildRegistry {
    /// The registry of this process.
    pub fn global() -> &'static ChildRegistry {
        &REGISTRY
    }

    /// The live children.
    pub fn live(&self) -> Vec<ChildInfo> {
        let children = self.lock();
        let mut live: Vec<ChildInfo> = children
            .values()
            .map(|entry| ChildInfo {
                pid: entry.pid,
                program: entry.program.clone(),
                label: entry.label.clone(),
            })
            .collect();
        live.sort_by_key(|child| child.pid);
        live
    }

    /// How many children are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no child is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every live child: cancels its run (which then fails with
    /// [`ProcessError::Cancelled`], escalates to SIGKILL after [`GRACE`] and reaps) and sends
    /// SIGTERM to its group right away, in case nobody drives the run. Returns how many there
    /// were. Use [`ChildRegistry::wait_idle`] to wait for them to be gone.
    pub fn kill_all(&self) -> usize {
        let children = self.lock();
        for entry in children.values() {
            entry.cancel.cancel();
            signal_group(entry.pgid, Signal::TERM);
        }
        children.len()
    }

    /// Waits until no child is live, at most `timeout`; returns whether the registry is empty.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let mut count = self.count.subscribe();
        matches!(
            tokio::time::timeout(timeout, count.wait_for(|live| *live == 0)).await,
            Ok(Ok(_))
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.children.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, entry: Entry) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut children = self.lock();
        children.insert(id, entry);
        self.count.send_replace(children.len());
        id
    }

    fn remove(&self, id: u64) {
        let mut children = self.lock();
        children.remove(&id);
        self.count.send_replace(children.len());
    }
}

/// Keeps a child in the registry; on drop, unregisters it and, while `armed` (the group may still
/// have members), sends SIGKILL to the group. Disarmed once the leader and stragglers are reaped.
pub(crate) struct GroupGuard {
    id: u64,
    pub(crate) pgid: Pid,
    pub(crate) armed: bool,
}

impl GroupGuard {
    pub(crate) fn register(
        pid: u32,
        pgid: Pid,
        tool: &Tool,
        label: &str,
        cancel: CancellationToken,
    ) -> GroupGuard {
        let entry = Entry {
            pid,
            pgid,
            program: tool.name().to_owned(),
            label: label.to_owned(),
            cancel,
        };
        let id = ChildRegistry::global().insert(entry);
        GroupGuard {
            id,
            pgid,
            armed: true,
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            signal_group(self.pgid, Signal::KILL);
        }
        ChildRegistry::global().remove(self.id);
    }
}
