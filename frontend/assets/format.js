// Human-readable numbers for the pages (the server's twin is src/web/format.rs).

/**
 * `0:05`, `12:34`, `1:02:03`; an empty string for a missing or invalid duration.
 * @param {number | null | undefined} seconds
 * @returns {string}
 */
export function formatDuration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "";
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor(total / 60) % 60;
  const secs = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

const UNITS = ["KB", "MB", "GB", "TB", "PB"];

/**
 * `0 B`, `512 B`, `1.5 KB`, `12.3 MB` (binary multiples, one decimal).
 * @param {number | null | undefined} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * A transfer speed in bytes per second, e.g. `1.2 MB/s`.
 * @param {number | null | undefined} bytesPerSecond
 * @returns {string}
 */
export function formatSpeed(bytesPerSecond) {
  const text = formatBytes(bytesPerSecond);
  return text && `${text}/s`;
}

/**
 * Remaining time: `5 s`, `2 min 05 s`, `1 h 02 min`.
 * @param {number | null | undefined} seconds
 * @returns {string}
 */
export function formatEta(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "";
  const total = Math.round(seconds);
  if (total < 60) return `${total} s`;
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, "0")} s`;
  return `${Math.floor(total / 3600)} h ${String(Math.floor(total / 60) % 60).padStart(2, "0")} min`;
}

/**
 * `1 video`, `3 videos`.
 * @param {number} count
 * @param {string} one
 * @param {string} many
 * @returns {string}
 */
export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * The `download` attribute's file name (original §7): characters other than
 * `[A-Za-z0-9._-]` become `_`, runs of `_` collapse, at most 200 characters.
 * @param {string} name
 * @returns {string}
 */
export function downloadName(name) {
  return name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/_+/g, "_").slice(0, 200);
}
