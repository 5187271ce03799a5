// The manage page: edit titles and categories, delete videos (with confirmation), and add,
// rename and delete categories. Handlers are delegated, so swapped-in HTML keeps working.

import { api } from "./api.js";
import { confirmThenReport, report, requiredName, say, swapIn } from "./changes.js";

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

/** Fetches the page again and swaps the editable parts in (after category changes). */
function refresh() {
  return swapIn(".manage-layout");
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
  await report("manage-status", async () => {
    const video = await api(`/api/videos/${encodeURIComponent(id)}`, { method: "PATCH", body });
    title.value = video?.metadata?.title ?? title.value.trim();
    title.dataset.original = title.value;
    category.dataset.original = category.value;
    row.classList.add("saved");
    return `Saved “${title.value}”.`;
  });
}

/** @param {HTMLButtonElement} button */
async function deleteVideo(button) {
  const row = button.closest("[data-video-id]");
  if (!(row instanceof HTMLElement)) return;
  const title = button.dataset.title || "this video";
  /** The row to focus afterwards: the next one, else the one before. */
  let next = /** @type {Element | null} */ (null);
  const done = await confirmThenReport(
    button,
    `Delete “${title}”?`,
    "The video and all its files (thumbnail, subtitles, audio) are removed from the library. This cannot be undone.",
    "manage-status",
    async () => {
      await api(`/api/videos/${encodeURIComponent(row.dataset.videoId || "")}`, { method: "DELETE" });
      next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      return `Deleted “${title}”.`;
    },
  );
  const focus = done ? next?.querySelector("input, button") : null;
  if (focus instanceof HTMLElement) focus.focus();
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
  await report("category-status", async () => {
    await api(`/api/categories/${encodeURIComponent(row.dataset.slug || "")}`, { method: "PATCH", body: { name } });
    await refresh();
    return `Renamed to “${name}”.`;
  });
}

/** @param {HTMLButtonElement} button */
async function deleteCategory(button) {
  const row = button.closest("[data-slug]");
  if (!(row instanceof HTMLElement)) return;
  const name = button.dataset.name || row.dataset.slug || "";
  const question = `Delete the category “${name}”?`;
  await confirmThenReport(button, question, "Its videos stay in the library without a category.", "category-status", async () => {
    await api(`/api/categories/${encodeURIComponent(row.dataset.slug || "")}`, { method: "DELETE" });
    await refresh();
    return `Deleted the category “${name}”.`;
  });
}

/** @param {HTMLFormElement} form */
async function createCategory(form) {
  const name = requiredName(form, "category-status", "A category needs a name.");
  if (!name) return;
  const done = await report("category-status", async () => {
    await api("/api/categories", { method: "POST", body: { name } });
    await refresh();
    return `Added the category “${name}”.`;
  });
  if (done) document.getElementById("new-category")?.focus();
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
