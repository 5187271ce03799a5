// The library page: instant search through the JSON API while typing, and live updates when
// videos are added, renamed or deleted (the page's own HTML is fetched again and swapped in).

import { api, ApiError } from "./api.js";
import { renderCard } from "./cards.js";
import { onEvent } from "./events.js";
import { formatBytes, plural } from "./format.js";

const SEARCH_LIMIT = 48;
const TYPING_PAUSE_MS = 200;

/**
 * The API URL for a search from the page's form values.
 * @param {{q: string, category?: string, sort?: string}} form
 * @returns {string}
 */
export function searchUrl(form) {
  const params = new URLSearchParams();
  params.set("q", form.q.trim());
  if (form.category) params.set("category", form.category);
  if (form.sort) params.set("sort", form.sort);
  params.set("limit", String(SEARCH_LIMIT));
  return `/api/videos?${params}`;
}

/**
 * The page URL that shows the same state without JavaScript.
 * @param {{q: string, category?: string, sort?: string, view?: string}} form
 * @returns {string}
 */
export function pageUrl(form) {
  const params = new URLSearchParams();
  if (form.q.trim()) params.set("q", form.q.trim());
  if (form.category) params.set("category", form.category);
  if (form.view && !form.q.trim()) params.set("view", form.view);
  if (form.sort && form.sort !== "-added") params.set("sort", form.sort);
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

/** @param {string} id */
function byId(id) {
  return document.getElementById(id);
}

/** @returns {{q: string, category: string, sort: string, view: string}} */
function formValues() {
  const form = /** @type {HTMLFormElement} */ (byId("search-form"));
  const data = new FormData(form);
  return {
    q: String(data.get("q") || ""),
    category: String(data.get("category") || ""),
    sort: String(data.get("sort") || ""),
    view: String(data.get("view") || ""),
  };
}

/**
 * Fetches `url` and swaps the library parts of the page for the fresh ones, keeping the
 * focused card focused.
 * @param {string} url
 */
async function refreshFrom(url) {
  const response = await fetch(url, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const focusedId = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.videoId : undefined;
  for (const selector of ["#library-content", "#library-heading", "#library-stats", ".filters"]) {
    const now = document.querySelector(selector);
    const next = fresh.querySelector(selector);
    if (now && next) now.replaceWith(document.adoptNode(next));
  }
  if (focusedId) {
    const again = document.querySelector(`[data-video-id="${CSS.escape(focusedId)}"]`);
    if (again instanceof HTMLElement) again.focus({ preventScroll: true });
  }
}

/**
 * Shows search results from the API.
 * @param {string} q
 * @param {{videos: any[], totalCount: number, totalSize: number, totalPages?: number}} data
 * @param {string} moreUrl
 */
function showResults(q, data, moreUrl) {
  const content = byId("library-content");
  const heading = byId("library-heading");
  const stats = byId("library-stats");
  if (!content) return;
  if (heading) heading.textContent = `Results for “${q.trim()}”`;
  if (stats) stats.textContent = `${plural(data.totalCount, "video", "videos")} available · ${formatBytes(data.totalSize)}`;
  content.replaceChildren();
  content.dataset.filtered = "true";
  if (data.videos.length === 0) {
    const empty = document.createElement("div");
    empty.className = "empty";
    empty.id = "empty-state";
    const text = document.createElement("p");
    text.textContent = "No videos found. Try another word or clear the search.";
    empty.append(text);
    content.append(empty);
    return;
  }
  const grid = document.createElement("ul");
  grid.className = "grid";
  grid.id = "results";
  grid.append(...data.videos.map(renderCard));
  content.append(grid);
  if ((data.totalPages || 1) > 1) {
    const more = document.createElement("nav");
    more.className = "pager";
    more.setAttribute("aria-label", "More results");
    const link = document.createElement("a");
    link.className = "button";
    link.href = moreUrl;
    link.textContent = `Show all ${data.totalCount} results`;
    more.append(link);
    content.append(more);
  }
}

export function initLibrary() {
  const form = /** @type {HTMLFormElement | null} */ (byId("search-form"));
  const input = /** @type {HTMLInputElement | null} */ (byId("q"));
  const sort = /** @type {HTMLSelectElement | null} */ (byId("sort"));
  if (!form || !input) return;
  /** @type {AbortController | null} */
  let pending = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typing;
  let lastQuery = input.value.trim();

  async function run() {
    const values = formValues();
    const q = values.q.trim();
    if (q === lastQuery) return;
    lastQuery = q;
    pending?.abort();
    pending = new AbortController();
    const url = pageUrl(values);
    history.replaceState(null, "", url);
    try {
      if (!q) {
        await refreshFrom(url);
        return;
      }
      const data = await api(searchUrl(values), { signal: pending.signal });
      showResults(q, data, url);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") return;
      const stats = byId("library-stats");
      if (stats) stats.textContent = error instanceof ApiError ? error.message : "Search failed";
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(run, TYPING_PAUSE_MS);
  });
  sort?.addEventListener("change", () => form.requestSubmit());
  // Submitting goes to the same page the server renders, without empty parameters.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.assign(pageUrl(formValues()));
  });

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refreshTimer;
  const refreshSoon = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      if (lastQuery) {
        lastQuery = "\u0000";
        void run();
      } else {
        void refreshFrom(location.pathname + location.search);
      }
    }, 300);
  };
  for (const name of ["library.added", "library.updated", "library.removed", "reconnect"]) onEvent(name, refreshSoon);
}
