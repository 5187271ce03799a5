// The manage page's "Sources" and "To approve" panels: follow a channel, playlist or feed
// (POST /api/sources), see each source's last and next check, check now, pause, resume or
// stop following, and approve or reject the new entries that wait for a parent. Both lists follow
// the live `source` and `job` events.

import { api } from "./api.js";
import { confirmThenReport, message, report, say } from "./changes.js";
import { onEvent } from "./events.js";
import { formatDuration, plural } from "./format.js";

/**
 * @typedef {object} Source
 * @property {string} id
 * @property {string} url
 * @property {string} name
 * @property {string | null} category
 * @property {number} intervalHours
 * @property {string | null} startAfter
 * @property {number | null} startLatest
 * @property {number} maxPerCheck
 * @property {string} include
 * @property {string} exclude
 * @property {number | null} maxDurationMinutes
 * @property {"review" | "auto"} approval
 * @property {boolean} enabled
 * @property {string | null} lastCheckAt
 * @property {{code: string, message: string} | null} lastError
 * @property {number} failures
 * @property {string | null} nextCheckAt
 * @property {boolean} checking
 * @property {{queued: number, pending: number, rejected: number, skipped: number}} counts
 */

/**
 * @typedef {object} Entry
 * @property {number} id
 * @property {string} sourceId
 * @property {string} sourceName
 * @property {string | null} title
 * @property {string} url
 * @property {number | null} duration
 * @property {string | null} publishedAt
 * @property {string | null} thumbnail
 */

/**
 * @typedef {object} SourceForm what the "Add a source" form holds, as text
 * @property {string} url
 * @property {string} name
 * @property {string} category
 * @property {string} approval
 * @property {string} interval hours
 * @property {string} start "latest" or "after"
 * @property {string} latest
 * @property {string} after YYYY-MM-DD
 * @property {string} maxPerCheck
 * @property {string} include
 * @property {string} exclude
 * @property {string} maxDuration minutes
 */

/**
 * A whole number from a form field, or undefined when the field is empty or not a number.
 * @param {string} text
 * @returns {number | undefined}
 */
function whole(text) {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/**
 * The POST /api/sources body for the form's values: empty optional fields are left out (the
 * server's defaults apply), numbers are numbers, one start point.
 * @param {SourceForm} form
 * @returns {Record<string, string | number>}
 */
export function sourceBody(form) {
  /** @type {Record<string, string | number>} */
  const body = { url: form.url.trim() };
  const name = form.name.trim();
  if (name) body.name = name;
  if (form.category) body.category = form.category;
  if (form.approval) body.approval = form.approval;
  const interval = whole(form.interval);
  if (interval !== undefined) body.intervalHours = interval;
  if (form.start === "after" && form.after) body.startAfter = form.after;
  else {
    const latest = whole(form.latest);
    if (latest !== undefined) body.startLatest = latest;
  }
  const max = whole(form.maxPerCheck);
  if (max !== undefined) body.maxPerCheck = max;
  if (form.include.trim()) body.include = form.include.trim();
  if (form.exclude.trim()) body.exclude = form.exclude.trim();
  const minutes = whole(form.maxDuration);
  if (minutes !== undefined) body.maxDurationMinutes = minutes;
  return body;
}

/**
 * "5 min ago", "in 23 h", "in 2 days", "just now".
 * @param {string} iso
 * @param {number} now milliseconds since the epoch
 * @returns {string}
 */
export function relativeTime(iso, now) {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "";
  const seconds = Math.round((at - now) / 1000);
  const span = Math.abs(seconds);
  if (span < 60) return seconds >= 0 ? "in a moment" : "just now";
  let text;
  if (span < 3600) text = `${Math.round(span / 60)} min`;
  else if (span < 48 * 3600) text = `${Math.round(span / 3600)} h`;
  else text = plural(Math.round(span / 86400), "day", "days");
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

/**
 * One line about a source's checks.
 * @param {Source} source
 * @param {number} now milliseconds since the epoch
 * @returns {string}
 */
export function sourceStatus(source, now) {
  if (source.checking) return "Checking now…";
  /** @type {string[]} */
  const parts = [];
  if (!source.lastCheckAt) parts.push("Not checked yet");
  else if (source.lastError) {
    const times = source.failures > 1 ? ` (${source.failures} times in a row)` : "";
    parts.push(`Last check failed${times}: ${source.lastError.message}`);
  } else parts.push(`Checked ${relativeTime(source.lastCheckAt, now)}`);
  if (!source.enabled) parts.push("paused");
  else if (source.nextCheckAt) {
    const next = relativeTime(source.nextCheckAt, now);
    parts.push(source.lastError ? `trying again ${next}` : `next check ${next}`);
  }
  return parts.join(" · ");
}

/**
 * What a source does, in words: "Daily · asks first · kids".
 * @param {Source} source
 * @param {Record<string, string>} categoryNames slug → name
 * @returns {string}
 */
export function sourceSettings(source, categoryNames) {
  const every =
    source.intervalHours === 24
      ? "Daily"
      : source.intervalHours === 168
        ? "Weekly"
        : `Every ${plural(source.intervalHours, "hour", "hours")}`;
  const parts = [every, source.approval === "review" ? "asks first" : "downloads automatically"];
  if (source.category) parts.push(categoryNames[source.category] || source.category);
  const counts = source.counts;
  parts.push(`${plural(counts.queued, "video", "videos")} downloaded`);
  if (counts.pending) parts.push(`${counts.pending} waiting for approval`);
  return parts.join(" · ");
}

/**
 * "Science Club · 2:05 · published 3 Nov 2026".
 * @param {Entry} entry
 * @returns {string}
 */
export function entryDetails(entry) {
  const parts = [entry.sourceName];
  const length = formatDuration(entry.duration);
  if (length) parts.push(length);
  if (entry.publishedAt) {
    const day = new Date(entry.publishedAt);
    if (!Number.isNaN(day.getTime())) {
      parts.push(`published ${day.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })}`);
    }
  }
  return parts.join(" · ");
}

/**
 * Whether a live `job` event concerns the panels: a job that came from a source and is new or
 * changed state (approved elsewhere, queued by an automatic source, finished); progress
 * updates within one state do not.
 * @param {Map<string, string>} seen job id → the last state seen, updated here
 * @param {unknown} data the event's data, `{job}`
 * @returns {boolean}
 */
export function sourceJobChanged(seen, data) {
  const job = data && typeof data === "object" && "job" in data ? data.job : data;
  if (!job || typeof job !== "object") return false;
  const fields = /** @type {{id?: unknown, state?: unknown, source?: unknown}} */ (job);
  if (typeof fields.id !== "string" || !fields.source) return false;
  const state = String(fields.state);
  if (seen.get(fields.id) === state) return false;
  seen.set(fields.id, state);
  return true;
}

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function make(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * @param {string} label
 * @param {string} action
 * @param {string} [extra] another class
 */
function button(label, action, extra = "") {
  const element = /** @type {HTMLButtonElement} */ (make("button", `button small ${extra}`.trim(), label));
  element.type = "button";
  element.dataset.action = action;
  return element;
}

/** @returns {Record<string, string>} category slug → name, from the add form's select */
function categoryNames() {
  /** @type {Record<string, string>} */
  const names = {};
  const select = document.getElementById("source-category");
  if (select instanceof HTMLSelectElement) {
    for (const option of select.options) if (option.value) names[option.value] = option.text;
  }
  return names;
}

/** @param {Source[]} sources */
function showSources(sources) {
  const list = document.getElementById("source-list");
  const empty = document.getElementById("sources-empty");
  if (!(list instanceof HTMLElement)) return;
  if (empty) empty.hidden = sources.length > 0;
  const names = categoryNames();
  const now = Date.now();
  list.replaceChildren(
    ...sources.map((source) => {
      const li = make("li", "source-row");
      li.dataset.sourceId = source.id;
      li.dataset.name = source.name;
      const head = make("div", "source-head");
      head.append(make("span", "source-name", source.name));
      if (!source.enabled) head.append(make("span", "badge", "Paused"));
      const link = /** @type {HTMLAnchorElement} */ (make("a", "source-url", source.url));
      link.href = source.url;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      const settings = make("p", "details", sourceSettings(source, names));
      const status = make("p", source.lastError ? "details source-error" : "details", sourceStatus(source, now));
      const actions = make("div", "actions");
      const check = button("Check now", "check-source");
      check.disabled = source.checking;
      check.setAttribute("aria-label", `Check ${source.name} now`);
      const toggle = button(source.enabled ? "Pause" : "Resume", source.enabled ? "pause-source" : "resume-source");
      toggle.setAttribute("aria-label", `${source.enabled ? "Pause" : "Resume"} ${source.name}`);
      const remove = button("Stop following", "delete-source", "danger");
      remove.setAttribute("aria-label", `Stop following ${source.name}`);
      actions.append(check, toggle, remove);
      li.append(head, link, settings, status, actions);
      return li;
    }),
  );
}

/** The play-triangle placeholder the manage list shows where a video has no thumbnail. */
function playIcon() {
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("class", "thumb-icon");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(svgNs, "path");
  path.setAttribute("d", "M8 5v14l11-7z");
  svg.append(path);
  return svg;
}

/** @param {Entry[]} entries */
function showPending(entries) {
  const list = document.getElementById("approval-list");
  const empty = document.getElementById("approvals-empty");
  const bulk = document.getElementById("approval-bulk");
  if (!(list instanceof HTMLElement)) return;
  if (empty) empty.hidden = entries.length > 0;
  if (bulk) bulk.hidden = entries.length === 0;
  const count = document.getElementById("approvals-count");
  if (count) count.textContent = entries.length ? plural(entries.length, "video", "videos") : "";
  list.replaceChildren(
    ...entries.map((entry) => {
      const title = entry.title || entry.url;
      const li = make("li", "approval-row");
      li.dataset.entryId = String(entry.id);
      const pick = /** @type {HTMLInputElement} */ (document.createElement("input"));
      pick.type = "checkbox";
      pick.name = "entry";
      pick.value = String(entry.id);
      pick.id = `entry-${entry.id}`;
      pick.setAttribute("aria-label", `Select ${title}`);
      const thumb = make("div", "manage-thumb thumb");
      thumb.setAttribute("aria-hidden", "true");
      thumb.append(playIcon());
      if (entry.thumbnail) {
        const img = /** @type {HTMLImageElement} */ (document.createElement("img"));
        img.src = entry.thumbnail;
        img.alt = "";
        img.loading = "lazy";
        img.decoding = "async";
        img.width = 160;
        img.height = 90;
        thumb.append(img);
      }
      const text = make("div", "approval-text");
      const label = /** @type {HTMLLabelElement} */ (make("label", "approval-title", title));
      label.htmlFor = pick.id;
      text.append(label, make("p", "details", entryDetails(entry)));
      const actions = make("div", "actions");
      const approve = button("Approve", "approve-entry", "primary");
      approve.setAttribute("aria-label", `Approve ${title}`);
      const reject = button("Reject", "reject-entry");
      reject.setAttribute("aria-label", `Reject ${title}`);
      actions.append(approve, reject);
      li.append(pick, thumb, text, actions);
      return li;
    }),
  );
}

/** Reads both lists anew. */
async function refresh() {
  const answers = await Promise.all([api("/api/sources"), api("/api/sources/pending")]);
  showSources(answers[0].sources);
  showPending(answers[1].entries);
}

function refreshQuietly() {
  refresh().catch((error) => say("sources-status", message(error), "error"));
}

/**
 * The values of the add form.
 * @param {HTMLFormElement} form
 * @returns {SourceForm}
 */
function formValues(form) {
  const value = (/** @type {string} */ name) => {
    const field = form.elements.namedItem(name);
    if (field instanceof RadioNodeList) return field.value;
    return field instanceof HTMLInputElement || field instanceof HTMLSelectElement ? field.value : "";
  };
  return {
    url: value("url"),
    name: value("name"),
    category: value("category"),
    approval: value("approval"),
    interval: value("interval"),
    start: value("start"),
    latest: value("latest"),
    after: value("after"),
    maxPerCheck: value("maxPerCheck"),
    include: value("include"),
    exclude: value("exclude"),
    maxDuration: value("maxDuration"),
  };
}

/**
 * Waits until the source's check after `before` has ended (at most a minute).
 * @param {string} id
 * @param {string | null} before its `lastCheckAt` before the check
 */
async function waitForCheck(id, before) {
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    /** @type {Source} */
    const source = await api(`/api/sources/${encodeURIComponent(id)}`);
    if (!source.checking && source.lastCheckAt && source.lastCheckAt !== before) return source;
  }
  return null;
}

/**
 * Checks a source now and follows the check until it ends.
 * @param {string} id
 */
async function checkNow(id) {
  /** @type {Source} */
  const source = await api(`/api/sources/${encodeURIComponent(id)}/check`, { method: "POST" });
  await refresh();
  const done = await waitForCheck(id, source.lastCheckAt);
  await refresh();
  if (!done) return "The check is still running; the list updates when it ends.";
  if (done.lastError) throw new Error(`${done.name}: ${done.lastError.message}`);
  return `${done.name} checked.`;
}

/**
 * Approves or rejects entries.
 * @param {"approve" | "reject"} decision
 * @param {number[]} ids
 */
async function decide(decision, ids) {
  const answer = await api(`/api/sources/pending/${decision}`, { method: "POST", body: { ids } });
  await refresh();
  if (decision === "approve") {
    return `${plural(answer.approved, "video", "videos")} approved: ${answer.approved === 1 ? "it is" : "they are"} in the queue on the Add page.`;
  }
  return `${plural(answer.rejected, "video", "videos")} rejected: ${answer.rejected === 1 ? "it" : "they"} will not be offered again.`;
}

/** The ids of the ticked entries. */
function selectedIds() {
  return [...document.querySelectorAll('#approval-list input[name="entry"]:checked')].map((input) =>
    Number(/** @type {HTMLInputElement} */ (input).value),
  );
}

/** @param {SubmitEvent} event */
async function addSource(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const body = sourceBody(formValues(form));
  if (!body.url) {
    say("source-form-status", "Paste the address of a channel, playlist or feed.", "error");
    const field = form.elements.namedItem("url");
    if (field instanceof HTMLInputElement) field.focus();
    return;
  }
  const submit = form.querySelector('button[type="submit"]');
  if (submit instanceof HTMLButtonElement) submit.disabled = true;
  const added = await report("source-form-status", async () => {
    /** @type {Source} */
    const source = await api("/api/sources", { method: "POST", body });
    form.reset();
    await refresh();
    const checked = await waitForCheck(source.id, null);
    await refresh();
    if (checked?.lastError) throw new Error(`Following it, but the first check failed: ${checked.lastError.message}`);
    return `Following ${checked?.name || source.name}.`;
  });
  if (submit instanceof HTMLButtonElement) submit.disabled = false;
  if (added) say("sources-status", "");
}

/** Shows the start-point field that belongs to the chosen kind. */
function syncStartFields() {
  const form = document.getElementById("source-create");
  if (!(form instanceof HTMLFormElement)) return;
  const after = formValues(form).start === "after";
  const latest = document.getElementById("source-latest-field");
  const date = document.getElementById("source-after-field");
  if (latest) latest.hidden = after;
  if (date) date.hidden = !after;
}

/** @param {MouseEvent} event */
function onClick(event) {
  const target = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
  if (!(target instanceof HTMLButtonElement)) return;
  const action = target.dataset.action;
  const sourceRow = target.closest("[data-source-id]");
  const id = sourceRow instanceof HTMLElement ? sourceRow.dataset.sourceId || "" : "";
  const name = sourceRow instanceof HTMLElement ? sourceRow.dataset.name || "" : "";
  const entryRow = target.closest("[data-entry-id]");
  const entry = entryRow instanceof HTMLElement ? Number(entryRow.dataset.entryId) : NaN;
  const path = `/api/sources/${encodeURIComponent(id)}`;
  switch (action) {
    case "check-source":
      target.disabled = true;
      say("sources-status", `Checking ${name}…`);
      void report("sources-status", () => checkNow(id));
      break;
    case "pause-source":
    case "resume-source": {
      const enabled = action === "resume-source";
      void report("sources-status", async () => {
        await api(path, { method: "PATCH", body: { enabled } });
        await refresh();
        return enabled ? `${name} resumed.` : `${name} paused: it is not checked until you resume it.`;
      });
      break;
    }
    case "delete-source":
      void confirmThenReport(
        target,
        `Stop following ${name}?`,
        `SOFATHEK stops checking ${name}. Videos it already added stay in the library.`,
        "sources-status",
        async () => {
          await api(path, { method: "DELETE" });
          await refresh();
          return `No longer following ${name}.`;
        },
      );
      break;
    case "approve-entry":
    case "reject-entry":
      if (Number.isInteger(entry)) void report("approvals-status", () => decide(action === "approve-entry" ? "approve" : "reject", [entry]));
      break;
    case "approve-selected":
    case "reject-selected": {
      const ids = selectedIds();
      if (!ids.length) {
        say("approvals-status", "Tick the videos first.", "error");
        break;
      }
      void report("approvals-status", () => decide(action === "approve-selected" ? "approve" : "reject", ids));
      break;
    }
  }
}

export function initSources() {
  const panel = document.getElementById("sources");
  if (!panel) return;
  document.getElementById("source-create")?.addEventListener("submit", (event) => void addSource(/** @type {SubmitEvent} */ (event)));
  document.getElementById("source-create")?.addEventListener("change", syncStartFields);
  syncStartFields();
  panel.addEventListener("click", onClick);
  document.getElementById("approvals")?.addEventListener("click", onClick);
  document.getElementById("select-all-entries")?.addEventListener("change", (event) => {
    const all = /** @type {HTMLInputElement} */ (event.target).checked;
    for (const input of document.querySelectorAll('#approval-list input[name="entry"]')) {
      /** @type {HTMLInputElement} */ (input).checked = all;
    }
  });
  let pending = 0;
  const soon = () => {
    // Many events arrive together (a check queues several jobs): refresh once after them.
    clearTimeout(pending);
    pending = window.setTimeout(refreshQuietly, 300);
  };
  onEvent("source", soon);
  /** @type {Map<string, string>} */
  const jobStates = new Map();
  onEvent("job", (data) => {
    if (sourceJobChanged(jobStates, data)) soon();
  });
  onEvent("reconnect", soon);
  refreshQuietly();
}
