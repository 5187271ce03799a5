// The add page: paste a link, upload files with a byte progress bar, and the live queue
// (initial list from /api/jobs, then `job` events over SSE) with cancel and retry.

import { api, ApiError, csrfToken, errorMessage, OFFLINE_MESSAGE } from "./api.js";
import { onConnection, onEvent } from "./events.js";
import { formatBytes, formatEta, formatSpeed } from "./format.js";
import { countsLine, jobView, sortJobs, upsertJob, validateUrl } from "./jobs.js";

/** @typedef {import("./jobs.js").Job} Job */

/** @param {string} id */
function byId(id) {
  return document.getElementById(id);
}

/**
 * @param {HTMLElement | null} element
 * @param {string} text
 * @param {"ok" | "error" | ""} [kind]
 */
function say(element, text, kind = "") {
  if (!element) return;
  element.textContent = text;
  element.classList.toggle("ok", kind === "ok");
  element.classList.toggle("error", kind === "error");
}

/**
 * The job inside a create/retry answer (`data` may be the job or `{job}`).
 * @param {any} data
 * @returns {Job | null}
 */
export function jobOf(data) {
  const job = data && typeof data === "object" && data.job ? data.job : data;
  return job && typeof job === "object" && typeof job.id === "string" ? job : null;
}

/**
 * Bytes per second over a sliding window of samples.
 * @param {{t: number, bytes: number}[]} samples oldest first
 * @returns {number | null}
 */
export function windowSpeed(samples) {
  if (samples.length < 2) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const seconds = (last.t - first.t) / 1000;
  return seconds > 0 ? (last.bytes - first.bytes) / seconds : null;
}

// ---------------------------------------------------------------------------------------------
// Queue

/** @type {Job[]} */
let jobs = [];

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} [text]
 */
function make(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * A queue item's action button: `text` shows, "`text` `title`" is its accessible name.
 * @param {string} className
 * @param {string} text
 * @param {string} action the `data-action` the queue's click handler dispatches on
 * @param {string} title the job's title
 */
function jobButton(className, text, action, title) {
  const button = make("button", className, text);
  button.setAttribute("type", "button");
  button.dataset.action = action;
  button.setAttribute("aria-label", `${text} ${title}`);
  return button;
}

/**
 * Fills a queue item for a job.
 * @param {HTMLElement} item
 * @param {Job} job
 */
function fillJob(item, job) {
  const view = jobView(job);
  item.dataset.state = view.state;
  const focused = item.contains(document.activeElement) && document.activeElement instanceof HTMLElement
    ? document.activeElement.dataset.action
    : undefined;
  const head = make("div", "job-head");
  head.append(make("p", "job-title", view.title));
  if (view.url) head.append(make("p", "job-url", view.url));
  const state = make("span", "job-state", view.stateLabel);
  const body = make("div", "job-body");
  if (view.progress !== null) {
    const bar = /** @type {HTMLProgressElement} */ (make("progress", ""));
    bar.max = 100;
    bar.value = view.progress;
    bar.setAttribute("aria-label", `Progress of ${view.title}`);
    body.append(bar);
  }
  if (view.details) body.append(make("p", "job-details", view.details));
  if (view.error) {
    body.append(make("p", "job-error", view.error.message));
    if (view.error.suggestion) body.append(make("p", "job-suggestion", view.error.suggestion));
  }
  const actions = make("div", "job-actions");
  if (view.canCancel) actions.append(jobButton("button small", "Cancel", "cancel", view.title));
  if (view.canRetry) actions.append(jobButton("button small primary", "Retry", "retry", view.title));
  if (view.watchHref) {
    const watch = /** @type {HTMLAnchorElement} */ (make("a", "button small primary", "Watch"));
    watch.href = view.watchHref;
    watch.dataset.action = "watch";
    actions.append(watch);
  }
  item.replaceChildren(head, state, body, actions);
  if (focused) {
    const again = item.querySelector(`[data-action="${focused}"]`);
    if (again instanceof HTMLElement) again.focus();
  }
}

function renderQueue() {
  const list = byId("queue");
  if (!list) return;
  const empty = byId("queue-empty");
  if (empty) empty.hidden = jobs.length > 0;
  say(byId("queue-counts"), jobs.length ? countsLine(jobs) : "");
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of Array.from(list.children)) {
    if (child instanceof HTMLElement && child.dataset.jobId) existing.set(child.dataset.jobId, child);
  }
  jobs.forEach((job, index) => {
    let item = existing.get(job.id);
    existing.delete(job.id);
    if (!item) {
      item = make("li", "job");
      item.dataset.jobId = job.id;
    }
    fillJob(item, job);
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
  });
  for (const stale of existing.values()) stale.remove();
}

/** @param {Job | null} job */
function showJob(job) {
  if (!job) return;
  jobs = upsertJob(jobs, job);
  renderQueue();
}

async function loadJobs() {
  try {
    const data = await api("/api/jobs");
    const list = Array.isArray(data && data.jobs) ? data.jobs : [];
    jobs = sortJobs(list);
    renderQueue();
    say(byId("queue-connection"), "");
    const notice = byId("queue-connection");
    if (notice) notice.hidden = true;
  } catch (error) {
    const notice = byId("queue-connection");
    if (notice) {
      notice.hidden = false;
      notice.textContent = `The queue could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

/**
 * @param {string} id
 * @param {"cancel" | "retry"} action
 * @param {HTMLButtonElement} button
 */
async function act(id, action, button) {
  button.disabled = true;
  try {
    const data =
      action === "cancel"
        ? await api(`/api/jobs/${encodeURIComponent(id)}`, { method: "DELETE" })
        : await api(`/api/jobs/${encodeURIComponent(id)}/retry`, { method: "POST" });
    const job = jobOf(data);
    if (job) showJob(job);
  } catch (error) {
    button.disabled = false;
    say(byId("url-status"), error instanceof Error ? error.message : String(error), "error");
  }
}

function initQueue() {
  const list = byId("queue");
  list?.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
    const item = target?.closest("[data-job-id]");
    if (!(target instanceof HTMLButtonElement) || !(item instanceof HTMLElement) || !item.dataset.jobId) return;
    const action = target.dataset.action;
    if (action === "cancel" || action === "retry") void act(item.dataset.jobId, action, target);
  });
  onEvent("job", (data) => showJob(jobOf(data)));
  onEvent("reconnect", () => void loadJobs());
  onConnection((connected) => {
    const notice = byId("queue-connection");
    if (!notice) return;
    if (!connected) {
      notice.textContent = "Live updates paused — reconnecting…";
      notice.hidden = false;
    } else if (notice.textContent.startsWith("Live updates")) {
      notice.hidden = true;
    }
  });
  void loadJobs();
}

// ---------------------------------------------------------------------------------------------
// Paste a link

function initUrlForm() {
  const form = /** @type {HTMLFormElement | null} */ (byId("url-form"));
  const input = /** @type {HTMLInputElement | null} */ (byId("url"));
  const error = byId("url-error");
  const status = byId("url-status");
  const submit = /** @type {HTMLButtonElement | null} */ (byId("url-submit"));
  const category = /** @type {HTMLSelectElement | null} */ (byId("url-category"));
  const audio = /** @type {HTMLInputElement | null} */ (byId("url-audio"));
  if (!form || !input || !submit) return;

  const showError = (/** @type {string | null} */ message) => {
    if (!error) return;
    error.hidden = !message;
    error.textContent = message || "";
    input.setAttribute("aria-invalid", message ? "true" : "false");
  };
  input.addEventListener("input", () => {
    showError(null);
    say(status, "");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = validateUrl(input.value);
    showError(problem);
    if (problem) {
      input.focus();
      return;
    }
    submit.disabled = true;
    say(status, "Adding…");
    try {
      const data = await api("/api/jobs", {
        method: "POST",
        body: { url: input.value.trim(), category: category?.value || null, audio: Boolean(audio?.checked) },
      });
      showJob(jobOf(data));
      say(status, "Download started successfully! It appears in the library when it is ready.", "ok");
      input.value = "";
    } catch (failure) {
      say(status, failure instanceof ApiError ? failure.message : OFFLINE_MESSAGE, "error");
    } finally {
      submit.disabled = false;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Upload

/**
 * Sends one file with XMLHttpRequest (fetch cannot report upload progress).
 * @param {File} file
 * @param {{category: string, title: string}} fields
 * @param {(loaded: number, total: number) => void} onProgress
 * @returns {{done: Promise<any>, abort: () => void}}
 */
function send(file, fields, onProgress) {
  const request = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    request.open("POST", "/api/videos/upload");
    request.setRequestHeader("Accept", "application/json");
    const token = csrfToken();
    if (token) request.setRequestHeader("X-CSRF-Token", token);
    request.upload.addEventListener("progress", (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size));
    request.addEventListener("load", () => {
      /** @type {any} */
      let body = request.responseText;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // Keep the text.
      }
      if (request.status >= 200 && request.status < 300) resolve(body && body.data !== undefined ? body.data : body);
      else reject(new ApiError(errorMessage(body, request.status), request.status, body && body.code));
    });
    request.addEventListener("error", () => reject(new ApiError(OFFLINE_MESSAGE, 0, "NETWORK")));
    request.addEventListener("abort", () => reject(new DOMException("Upload cancelled", "AbortError")));
    const form = new FormData();
    if (fields.category) form.append("category", fields.category);
    if (fields.title) form.append("title", fields.title);
    form.append("video", file, file.name);
    request.send(form);
  });
  return { done, abort: () => request.abort() };
}

function initUpload() {
  const form = /** @type {HTMLFormElement | null} */ (byId("upload-form"));
  const input = /** @type {HTMLInputElement | null} */ (byId("upload-file"));
  const zone = byId("dropzone");
  const chosen = byId("upload-chosen");
  const submit = /** @type {HTMLButtonElement | null} */ (byId("upload-submit"));
  const box = byId("upload-progress");
  const bar = /** @type {HTMLProgressElement | null} */ (byId("upload-bar"));
  const label = byId("upload-label");
  const text = byId("upload-text");
  const cancel = byId("upload-cancel");
  const status = byId("upload-status");
  const category = /** @type {HTMLSelectElement | null} */ (byId("upload-category"));
  const title = /** @type {HTMLInputElement | null} */ (byId("upload-title"));
  if (!form || !input || !zone || !submit) return;
  /** @type {File[]} */
  let files = [];
  /** @type {(() => void) | null} */
  let abort = null;
  let cancelled = false;

  const choose = (/** @type {File[]} */ list) => {
    files = list;
    say(chosen, list.map((f) => `${f.name} (${formatBytes(f.size)})`).join(", "));
    say(status, "");
  };
  input.addEventListener("change", () => choose(Array.from(input.files || [])));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) zone.addEventListener(name, () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const dropped = Array.from(/** @type {DragEvent} */ (event).dataTransfer?.files || []);
    if (dropped.length) choose(dropped);
  });
  cancel?.addEventListener("click", () => {
    cancelled = true;
    abort?.();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (files.length === 0) {
      say(status, "Choose one or more video files first.", "error");
      input.focus();
      return;
    }
    submit.disabled = true;
    cancelled = false;
    if (box) box.hidden = false;
    let sent = 0;
    const batch = files.slice();
    for (let index = 0; index < batch.length; index += 1) {
      const file = batch[index];
      if (cancelled) break;
      if (label) label.textContent = batch.length > 1 ? `Uploading ${file.name} (${index + 1} of ${batch.length})` : `Uploading ${file.name}`;
      /** @type {{t: number, bytes: number}[]} */
      const samples = [];
      const transfer = send(
        file,
        { category: category?.value || "", title: batch.length === 1 ? title?.value.trim() || "" : "" },
        (loaded, total) => {
          const now = Date.now();
          samples.push({ t: now, bytes: loaded });
          while (samples.length > 2 && now - samples[0].t > 3000) samples.shift();
          const speed = windowSpeed(samples);
          if (bar) {
            bar.max = total || 1;
            bar.value = loaded;
          }
          const parts = [`${formatBytes(loaded)} of ${formatBytes(total)}`, `${Math.floor((loaded / (total || 1)) * 100)}%`];
          if (speed) {
            parts.push(formatSpeed(speed));
            parts.push(`${formatEta((total - loaded) / speed)} left`);
          }
          say(text, parts.join(" · "));
        },
      );
      abort = transfer.abort;
      try {
        showJob(jobOf(await transfer.done));
        sent += 1;
      } catch (error) {
        if (error instanceof DOMException && error.name === "AbortError") {
          say(status, "Upload cancelled.");
        } else {
          say(status, `${file.name}: ${error instanceof Error ? error.message : String(error)}`, "error");
        }
        break;
      }
    }
    abort = null;
    if (box) box.hidden = true;
    submit.disabled = false;
    if (sent === batch.length) {
      form.reset();
      choose([]);
      say(status, sent === 1 ? "Upload complete. The video is being prepared." : `${sent} uploads complete. The videos are being prepared.`, "ok");
    }
  });
}

export function initAdd() {
  initQueue();
  initUrlForm();
  initUpload();
}
