// The manage page: edit titles and categories, delete videos (with confirmation), and add,
// rename and delete categories. Handlers are delegated, so swapped-in HTML keeps working.

import { api } from "./api.js";

/**
 * The PATCH body for a video form: only what changed; an empty category means none.
 * @param {{title: string, category: string}} now
 * @param {{title: string, category: string}} before
 * @returns {{title?: string, category?: string | null} | null} null when nothing changed
 */
export function videoChanges(now, before) {
  /** @type {{title?: string, category?: string | null}} */
  const body = {};
  if (now.title.trim() !== before.title) body.title = now.title.trim();
  if (now.category !== before.category) body.category = now.category || null;
  return Object.keys(body).length ? body : null;
}

/**
 * @param {string} id
 * @param {string} text
 * @param {"ok" | "error" | ""} [kind]
 */
function say(id, text, kind = "") {
  const element = document.getElementById(id);
  if (!element) return;
  element.textContent = text;
  element.classList.toggle("ok", kind === "ok");
  element.classList.toggle("error", kind === "error");
}

/**
 * Asks in the page's dialog; resolves true when confirmed.
 * @param {string} title
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export function confirmDelete(title, text) {
  const dialog = /** @type {HTMLDialogElement | null} */ (document.getElementById("confirm-dialog"));
  if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(text));
  const heading = document.getElementById("confirm-title");
  const body = document.getElementById("confirm-text");
  if (heading) heading.textContent = title;
  if (body) body.textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  document.getElementById("confirm-cancel")?.focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

/** Fetches the page again and swaps the editable parts in (after category changes). */
async function refresh() {
  const response = await fetch(location.pathname + location.search, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const now = document.querySelector(".manage-layout");
  const next = fresh.querySelector(".manage-layout");
  if (now && next) now.replaceWith(document.adoptNode(next));
}

/** @param {unknown} error */
function message(error) {
  return error instanceof Error ? error.message : String(error);
}

/** @param {HTMLFormElement} form */
async function saveVideo(form) {
  const row = form.closest("[data-video-id]");
  if (!(row instanceof HTMLElement)) return;
  const id = row.dataset.videoId || "";
  const title = /** @type {HTMLInputElement} */ (form.elements.namedItem("title"));
  const category = /** @type {HTMLSelectElement} */ (form.elements.namedItem("category"));
  const body = videoChanges(
    { title: title.value, category: category.value },
    { title: title.dataset.original || "", category: category.dataset.original || "" },
  );
  if (!body) {
    say("manage-status", "Nothing to save.");
    return;
  }
  if (body.title === "") {
    say("manage-status", "A title cannot be empty.", "error");
    title.focus();
    return;
  }
  try {
    const video = await api(`/api/videos/${encodeURIComponent(id)}`, { method: "PATCH", body });
    title.value = video?.metadata?.title ?? title.value.trim();
    title.dataset.original = title.value;
    category.dataset.original = category.value;
    row.classList.add("saved");
    say("manage-status", `Saved “${title.value}”.`, "ok");
  } catch (error) {
    say("manage-status", message(error), "error");
  }
}

/** @param {HTMLButtonElement} button */
async function deleteVideo(button) {
  const row = button.closest("[data-video-id]");
  if (!(row instanceof HTMLElement)) return;
  const title = button.dataset.title || "this video";
  const yes = await confirmDelete(
    `Delete “${title}”?`,
    "The video and all its files (thumbnail, subtitles, audio) are removed from the library. This cannot be undone.",
  );
  if (!yes) {
    button.focus();
    return;
  }
  try {
    await api(`/api/videos/${encodeURIComponent(row.dataset.videoId || "")}`, { method: "DELETE" });
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    say("manage-status", `Deleted “${title}”.`, "ok");
    const focus = next?.querySelector("input, button");
    if (focus instanceof HTMLElement) focus.focus();
  } catch (error) {
    say("manage-status", message(error), "error");
  }
}

/** @param {HTMLFormElement} form */
async function renameCategory(form) {
  const row = form.closest("[data-slug]");
  if (!(row instanceof HTMLElement)) return;
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("name"));
  const name = input.value.trim();
  if (!name || name === input.dataset.original) {
    say("category-status", name ? "Nothing to rename." : "A category needs a name.", name ? "" : "error");
    return;
  }
  try {
    await api(`/api/categories/${encodeURIComponent(row.dataset.slug || "")}`, { method: "PATCH", body: { name } });
    await refresh();
    say("category-status", `Renamed to “${name}”.`, "ok");
  } catch (error) {
    say("category-status", message(error), "error");
  }
}

/** @param {HTMLButtonElement} button */
async function deleteCategory(button) {
  const row = button.closest("[data-slug]");
  if (!(row instanceof HTMLElement)) return;
  const name = button.dataset.name || row.dataset.slug || "";
  const yes = await confirmDelete(`Delete the category “${name}”?`, "Its videos stay in the library without a category.");
  if (!yes) {
    button.focus();
    return;
  }
  try {
    await api(`/api/categories/${encodeURIComponent(row.dataset.slug || "")}`, { method: "DELETE" });
    await refresh();
    say("category-status", `Deleted the category “${name}”.`, "ok");
  } catch (error) {
    say("category-status", message(error), "error");
  }
}

/** @param {HTMLFormElement} form */
async function createCategory(form) {
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("name"));
  const name = input.value.trim();
  if (!name) {
    say("category-status", "A category needs a name.", "error");
    input.focus();
    return;
  }
  try {
    await api("/api/categories", { method: "POST", body: { name } });
    await refresh();
    say("category-status", `Added the category “${name}”.`, "ok");
    document.getElementById("new-category")?.focus();
  } catch (error) {
    say("category-status", message(error), "error");
  }
}

export function initManage() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.action === "save") {
      event.preventDefault();
      void saveVideo(form);
    } else if (form.dataset.action === "rename") {
      event.preventDefault();
      void renameCategory(form);
    } else if (form.id === "category-create") {
      event.preventDefault();
      void createCategory(form);
    }
  });
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
    if (!(button instanceof HTMLButtonElement)) return;
    if (button.dataset.action === "delete") void deleteVideo(button);
    else if (button.dataset.action === "delete-category") void deleteCategory(button);
  });
  document.addEventListener("input", (event) => {
    const row = event.target instanceof Element ? event.target.closest(".manage-row") : null;
    row?.classList.remove("saved");
  });
}
