// The manage page's "Library folder" panel: start a library scan and show the last report
// (what was added, queued for conversion, and left alone with the reason).

import { api } from "./api.js";
import { message, say } from "./changes.js";
import { plural } from "./format.js";

/**
 * @typedef {object} ScanReport
 * @property {string} trigger startup, watch, periodic, api or cli
 * @property {string} startedAt
 * @property {number} tookMs
 * @property {number} files
 * @property {number} known
 * @property {{file: string, id: string, title: string}[]} adopted
 * @property {{file: string, job: string}[]} queued
 * @property {{file: string, reason: string}[]} skipped
 * @property {number} settling
 */

/** What started a scan, in words. */
const TRIGGERS = /** @type {Record<string, string>} */ ({
  startup: "at start-up",
  watch: "after the folder changed",
  periodic: "on schedule",
  api: "on request",
  cli: "from the command line",
});

/**
 * One line about a scan.
 * @param {ScanReport | null | undefined} report
 * @param {(iso: string) => string} [time] how to show the start time
 * @returns {string}
 */
export function scanSummary(report, time = (iso) => new Date(iso).toLocaleString()) {
  if (!report) return "No scan has run yet.";
  const when = TRIGGERS[report.trigger] || report.trigger;
  const parts = [
    `${plural(report.adopted.length, "video", "videos")} added`,
    `${plural(report.queued.length, "file", "files")} queued for conversion`,
    `${plural(report.skipped.length, "file", "files")} left alone`,
  ];
  const settling = report.settling > 0 ? ` ${plural(report.settling, "file is", "files are")} still being copied.` : "";
  return `Last scan ${time(report.startedAt)} (${when}): ${parts.join(", ")}.${settling}`;
}

/**
 * Shows a report in the panel.
 * @param {ScanReport | null} report
 */
function show(report) {
  const summary = document.getElementById("scan-summary");
  if (summary) summary.textContent = scanSummary(report);
  const list = document.getElementById("scan-skipped");
  if (!(list instanceof HTMLElement)) return;
  list.replaceChildren();
  for (const item of report?.skipped ?? []) {
    const li = document.createElement("li");
    const name = document.createElement("code");
    name.textContent = item.file;
    li.append(name, ` — ${item.reason}`);
    list.append(li);
  }
  const details = list.closest("details");
  if (details instanceof HTMLElement) details.hidden = !report?.skipped.length;
}

/** Reads the scan state; returns whether a scan is still running. */
async function refresh() {
  const state = await api("/api/library/scan");
  show(state.report ?? null);
  return Boolean(state.running);
}

/** Starts a scan and follows it until it ends. */
async function scanNow() {
  const button = document.getElementById("scan-now");
  if (button instanceof HTMLButtonElement) button.disabled = true;
  say("scan-status", "Scanning the library folder…");
  try {
    await api("/api/library/scan", { method: "POST" });
    for (let i = 0; i < 600; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (!(await refresh())) break;
    }
    say("scan-status", "Scan finished.", "ok");
  } catch (error) {
    say("scan-status", message(error), "error");
  } finally {
    if (button instanceof HTMLButtonElement) button.disabled = false;
  }
}

export function initScan() {
  if (!document.getElementById("library-folder")) return;
  document.getElementById("scan-now")?.addEventListener("click", () => void scanNow());
  refresh().catch((error) => say("scan-status", message(error), "error"));
}
