// Resume positions and player error messages: pure rules plus two stores. Without a profile
// (a fresh install) positions stay in localStorage; a signed-in profile keeps them on the
// server (`serverProgressStore`), mirrored in this browser so a reload sees the newest at once.

/** Positions this close to the start are not worth resuming (seconds). */
export const RESUME_MIN_SECONDS = 3;
/** Positions this close to the end count as finished (seconds). */
export const FINISHED_MARGIN_SECONDS = 3;
/** At most this many positions are kept in the browser. */
export const MAX_SAVED = 200;

/** @typedef {{t: number, d: number, at: number}} SavedPosition */

/**
 * Where to resume, or null to start at the beginning.
 * @param {SavedPosition | null} saved
 * @param {number} duration the media's duration (NaN or Infinity when unknown)
 * @returns {number | null}
 */
export function resumePoint(saved, duration) {
  if (!saved || !Number.isFinite(saved.t) || saved.t < RESUME_MIN_SECONDS) return null;
  const total = Number.isFinite(duration) && duration > 0 ? duration : saved.d;
  if (Number.isFinite(total) && total > 0 && saved.t >= total - FINISHED_MARGIN_SECONDS) return null;
  return saved.t;
}

/**
 * Whether a position means "watched to the end" (forget it).
 * @param {number} time
 * @param {number} duration
 */
export function isFinished(time, duration) {
  return Number.isFinite(duration) && duration > 0 && time >= duration - FINISHED_MARGIN_SECONDS;
}

/**
 * A message for each MediaError code (1 aborted, 2 network, 3 decode, 4 not supported).
 * @param {number | undefined} code
 * @returns {string}
 */
export function mediaErrorMessage(code) {
  switch (code) {
    case 1:
      return "Playback was stopped before the video finished loading.";
    case 2:
      return "A network error interrupted the video. Check the connection to SOFATHEK and try again.";
    case 3:
      return "This video could not be decoded. The file may be damaged or use a format this browser cannot play.";
    case 4:
      return "This video cannot be played in this browser: the file is missing or its format is not supported. You can still download it.";
    default:
      return "The video could not be played.";
  }
}

/** When the browser reads the file but cannot decode its picture (for example HEVC). */
export const NO_PICTURE_MESSAGE =
  "This browser cannot show the picture of this video (its format is not supported here); only the sound may play. You can still download it.";

/**
 * @typedef {object} ProgressStore
 * @property {(id: string) => SavedPosition | null} load
 * @property {(id: string, time: number, duration: number) => void} save
 * @property {(id: string) => void} clear forget the position (start over)
 * @property {(id: string, duration: number) => void} finish the video was watched to the end
 */

const KEY = "sofathek-progress";

/**
 * Keeps the newest `MAX_SAVED` entries.
 * @param {Record<string, SavedPosition>} all
 * @returns {Record<string, SavedPosition>}
 */
export function prune(all) {
  const entries = Object.entries(all);
  if (entries.length <= MAX_SAVED) return all;
  entries.sort((a, b) => b[1].at - a[1].at);
  return Object.fromEntries(entries.slice(0, MAX_SAVED));
}

/**
 * Positions in localStorage under one key (one per profile).
 * @param {Storage} storage
 * @param {() => number} [now]
 * @param {string} [key]
 * @returns {ProgressStore}
 */
export function localProgressStore(storage, now = Date.now, key = KEY) {
  /** @returns {Record<string, SavedPosition>} */
  const read = () => {
    try {
      const value = JSON.parse(storage.getItem(key) || "{}");
      return value && typeof value === "object" ? value : {};
    } catch {
      return {};
    }
  };
  /** @param {Record<string, SavedPosition>} all */
  const write = (all) => {
    try {
      storage.setItem(key, JSON.stringify(prune(all)));
    } catch {
      // Storage full or disabled: resuming is a convenience.
    }
  };
  return {
    load(id) {
      const saved = read()[id];
      return saved && typeof saved.t === "number" ? saved : null;
    },
    save(id, time, duration) {
      const all = read();
      all[id] = { t: Math.round(time * 10) / 10, d: Number.isFinite(duration) ? duration : 0, at: now() };
      write(all);
    },
    clear(id) {
      const all = read();
      delete all[id];
      write(all);
    },
    finish(id) {
      this.clear(id);
    },
  };
}

/** @typedef {{position: number, duration?: number, ended?: boolean}} ProgressReport */

/**
 * A profile's positions on the server. `fromServer` is the position the page was rendered
 * with; `local` mirrors what this browser reported (the newer of the two wins, so a reload
 * right after a report that is still on its way resumes correctly); `send` reports to the
 * server (PUT /api/progress/{id}).
 * @param {SavedPosition | null} fromServer
 * @param {ProgressStore} local
 * @param {(id: string, report: ProgressReport) => void} send
 * @returns {ProgressStore}
 */
export function serverProgressStore(fromServer, local, send) {
  const duration = (/** @type {number} */ d) => (Number.isFinite(d) && d > 0 ? d : undefined);
  return {
    load(id) {
      const here = local.load(id);
      if (here && (!fromServer || here.at >= fromServer.at)) return here;
      return fromServer;
    },
    save(id, time, total) {
      local.save(id, time, total);
      send(id, { position: Math.round(time * 10) / 10, duration: duration(total) });
    },
    clear(id) {
      // Remembered as 0 (not forgotten), so the page's older server position cannot win.
      local.save(id, 0, 0);
      send(id, { position: 0 });
    },
    finish(id, total) {
      local.save(id, 0, 0);
      const d = duration(total);
      send(id, { position: d ?? 0, duration: d, ended: true });
    },
  };
}

/**
 * The position a page was rendered with (`data-resume`, `data-resume-at`), if any.
 * @param {string | undefined} position
 * @param {string | undefined} at an ISO time
 * @returns {SavedPosition | null}
 */
export function renderedPosition(position, at) {
  const t = Number(position);
  const when = at ? Date.parse(at) : NaN;
  if (position === undefined || !Number.isFinite(t) || !Number.isFinite(when)) return null;
  return { t, d: 0, at: when };
}
