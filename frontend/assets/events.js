// One Server-Sent Events connection to /api/events per page, shared by whoever listens.
// EventSource reconnects by itself; `onReconnect` listeners resynchronise after a gap.

export const EVENTS_URL = "/api/events";

/** @typedef {(data: any) => void} Listener */

/** @type {EventSource | null} */
let source = null;
/** @type {Map<string, Set<Listener>>} */
const listeners = new Map();
/** @type {Set<(connected: boolean) => void>} */
const connectionListeners = new Set();
let wasConnected = false;
let lostOnce = false;

/** @param {string} name */
function attach(name) {
  source?.addEventListener(name, (event) => {
    let data;
    try {
      data = JSON.parse(/** @type {MessageEvent} */ (event).data);
    } catch {
      return;
    }
    for (const listener of listeners.get(name) || []) listener(data);
  });
}

function connect() {
  if (source || typeof EventSource === "undefined") return;
  source = new EventSource(EVENTS_URL);
  for (const name of listeners.keys()) attach(name);
  source.addEventListener("open", () => {
    const reconnected = lostOnce;
    wasConnected = true;
    for (const listener of connectionListeners) listener(true);
    if (reconnected) for (const listener of listeners.get("reconnect") || []) listener(null);
  });
  source.addEventListener("error", () => {
    if (wasConnected) lostOnce = true;
    wasConnected = false;
    for (const listener of connectionListeners) listener(false);
  });
}

/**
 * Listens to one event name (`job`, `library.added`, …; `reconnect` fires after a lost
 * connection came back).
 * @param {string} name
 * @param {Listener} listener
 */
export function onEvent(name, listener) {
  let set = listeners.get(name);
  if (!set) {
    set = new Set();
    listeners.set(name, set);
    if (source && name !== "reconnect") attach(name);
  }
  set.add(listener);
  connect();
}

/**
 * Told true/false as the stream connects and drops.
 * @param {(connected: boolean) => void} listener
 */
export function onConnection(listener) {
  connectionListeners.add(listener);
  connect();
}
