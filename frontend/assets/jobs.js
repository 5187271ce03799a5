// The job queue's pure logic: how a job is shown, the counts line, merging live updates, and
// the link check before a URL is sent.

import { formatBytes, formatEta, formatSpeed } from "./format.js";

/**
 * @typedef {object} Job
 * @property {string} id
 * @property {"url" | "upload" | "import"} kind
 * @property {"queued" | "running" | "completed" | "failed" | "cancelled"} state
 * @property {"fetching" | "probing" | "converting" | "thumbnailing" | "publishing" | null} stage
 * @property {number} progress 0 to 100
 * @property {number | null} [bytes]
 * @property {number | null} [totalBytes]
 * @property {number | null} [speed] bytes per second
 * @property {number | null} [eta] seconds
 * @property {{code: string, message: string, suggestion: string} | null} [error]
 * @property {number} [attempts]
 * @property {string | null} [url]
 * @property {string | null} [title]
 * @property {string | null} [category]
 * @property {string} [createdAt]
 * @property {string} [updatedAt]
 * @property {string | null} [videoId]
 * @property {{id: string, name: string} | null} [source] the followed source it came from
 */

/** @type {Record<string, string>} */
export const STAGE_LABELS = {
  fetching: "Downloading",
  probing: "Checking the video",
  converting: "Converting",
  thumbnailing: "Making a thumbnail",
  publishing: "Adding to the library",
};

/** @type {Record<string, string>} */
export const STATE_LABELS = {
  queued: "Queued",
  running: "Working",
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/**
 * @param {number | null | undefined} value
 * @returns {number}
 */
function percent(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, value));
}

/**
 * Everything the queue shows for one job.
 * @param {Job} job
 */
export function jobView(job) {
  const running = job.state === "running";
  const stage = running && job.stage ? STAGE_LABELS[job.stage] || job.stage : null;
  const progress = percent(job.progress);
  /** @type {string[]} */
  const details = [];
  if (running) {
    details.push(`${stage || "Working"} · ${Math.round(progress)}%`);
    if (job.bytes && job.totalBytes) details.push(`${formatBytes(job.bytes)} of ${formatBytes(job.totalBytes)}`);
    else if (job.bytes) details.push(formatBytes(job.bytes));
    if (job.speed) details.push(formatSpeed(job.speed));
    if (typeof job.eta === "number") details.push(`${formatEta(job.eta)} left`);
  } else if (job.state === "queued") {
    details.push("Waiting for its turn");
  } else if (job.state === "completed") {
    details.push("Added to the library");
  } else if (job.state === "cancelled") {
    details.push("Cancelled by user");
  }
  if (job.source) details.push(`from ${job.source.name}`);
  const title = job.title || job.url || (job.kind === "upload" ? "Uploaded file" : "Video");
  return {
    id: job.id,
    title,
    url: job.url && job.url !== title ? job.url : null,
    state: job.state,
    stateLabel: stage || STATE_LABELS[job.state] || job.state,
    progress: running ? progress : null,
    details: details.join(" · "),
    error: job.state === "failed" && job.error ? { message: job.error.message, suggestion: job.error.suggestion } : null,
    canCancel: job.state === "queued" || running,
    canRetry: job.state === "failed" || job.state === "cancelled",
    watchHref: job.state === "completed" && job.videoId ? `/watch/${encodeURIComponent(job.videoId)}` : null,
  };
}

/**
 * Adds or replaces a job; the newest (by creation) first. Stale updates (older `updatedAt`)
 * never overwrite newer ones.
 * @param {Job[]} jobs
 * @param {Job} job
 * @returns {Job[]}
 */
export function upsertJob(jobs, job) {
  const index = jobs.findIndex((j) => j.id === job.id);
  if (index >= 0) {
    const current = jobs[index];
    if (current.updatedAt && job.updatedAt && job.updatedAt < current.updatedAt) return jobs;
    const next = jobs.slice();
    next[index] = job;
    return next;
  }
  return sortJobs([job, ...jobs]);
}

/**
 * Newest first (ISO timestamps sort as strings).
 * @param {Job[]} jobs
 * @returns {Job[]}
 */
export function sortJobs(jobs) {
  return jobs.slice().sort((a, b) => String(b.createdAt || "").localeCompare(String(a.createdAt || "")));
}

/**
 * The counts line, as the original: "<total> total • <n> running • <n> completed [• …]".
 * @param {Job[]} jobs
 * @returns {string}
 */
export function countsLine(jobs) {
  /** @type {Record<string, number>} */
  const counts = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const job of jobs) counts[job.state] = (counts[job.state] || 0) + 1;
  const parts = [`${jobs.length} total`, `${counts.queued} queued`, `${counts.running} running`, `${counts.completed} completed`];
  if (counts.failed) parts.push(`${counts.failed} failed`);
  if (counts.cancelled) parts.push(`${counts.cancelled} cancelled`);
  return parts.join(" • ");
}

/**
 * Checks a pasted link before it is sent; returns an error message or null. The server decides
 * for real (private addresses, policy); this only catches typing mistakes.
 * @param {string} raw
 * @returns {string | null}
 */
export function validateUrl(raw) {
  const value = raw.trim();
  if (!value) return "Paste the link of a video.";
  if (value.length > 2000) return "This link is too long (at most 2000 characters).";
  if (/[\u0000-\u001f\u007f]/.test(value)) return "This link contains invalid characters.";
  let url;
  try {
    url = new URL(value);
  } catch {
    return "This does not look like a link. It should start with https://";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "Only http:// and https:// links can be added.";
  if (!url.hostname) return "This link has no site name.";
  return null;
}
