// The family part of the manage page: kids' profiles and their categories, API tokens and the
// parent password. Handlers are delegated, so the section can be swapped after a change.

import { api, ApiError } from "./api.js";
import { confirmDelete } from "./manage.js";

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

/** @param {unknown} error */
function message(error) {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

/**
 * The ticked category slugs of a form.
 * @param {HTMLFormElement} form
 * @returns {string[]}
 */
export function checkedCategories(form) {
  return Array.from(form.querySelectorAll('input[name="category"]'))
    .filter((input) => input instanceof HTMLInputElement && input.checked)
    .map((input) => /** @type {HTMLInputElement} */ (input).value);
}

/** Fetches the page again and swaps the family section in. */
async function refresh() {
  const response = await fetch(location.pathname + location.search, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const now = document.getElementById("family");
  const next = fresh.getElementById("family");
  if (now && next) now.replaceWith(next);
}

/** @param {HTMLFormElement} form */
async function createProfile(form) {
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("name"));
  const name = input.value.trim();
  if (!name) {
    say("profile-status", "A profile needs a name.", "error");
    input.focus();
    return;
  }
  try {
    await api("/api/profiles", { method: "POST", body: { name, categories: checkedCategories(form) } });
    await refresh();
    say("profile-status", `Added the profile “${name}”.`, "ok");
    document.getElementById("new-profile")?.focus();
  } catch (error) {
    say("profile-status", message(error), "error");
  }
}

/** @param {HTMLFormElement} form */
async function saveProfile(form) {
  const row = /** @type {HTMLElement | null} */ (form.closest(".profile-row"));
  if (!row) return;
  const name = row.dataset.name || "";
  try {
    await api(`/api/profiles/${encodeURIComponent(row.dataset.profileId || "")}`, {
      method: "PATCH",
      body: { categories: checkedCategories(form) },
    });
    await refresh();
    say("profile-status", `Saved the categories of “${name}”.`, "ok");
  } catch (error) {
    say("profile-status", message(error), "error");
  }
}

/** @param {HTMLButtonElement} button */
async function deleteProfile(button) {
  const row = /** @type {HTMLElement | null} */ (button.closest(".profile-row"));
  if (!row) return;
  const name = row.dataset.name || "";
  const yes = await confirmDelete(`Delete the profile “${name}”?`, "Its watch history goes with it. The videos stay.");
  if (!yes) {
    button.focus();
    return;
  }
  try {
    await api(`/api/profiles/${encodeURIComponent(row.dataset.profileId || "")}`, { method: "DELETE" });
    await refresh();
    say("profile-status", `Deleted the profile “${name}”.`, "ok");
  } catch (error) {
    say("profile-status", message(error), "error");
  }
}

/** @param {HTMLFormElement} form */
async function createToken(form) {
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("name"));
  const name = input.value.trim();
  if (!name) {
    say("token-status", "Say what the token is for.", "error");
    input.focus();
    return;
  }
  try {
    const created = await api("/api/tokens", { method: "POST", body: { name } });
    await refresh();
    const box = document.getElementById("token-created");
    const value = /** @type {HTMLInputElement | null} */ (document.getElementById("token-value"));
    if (box && value) {
      value.value = created.token;
      box.hidden = false;
      value.focus();
      value.select();
    }
    say("token-status", `Created the token “${name}”.`, "ok");
  } catch (error) {
    say("token-status", message(error), "error");
  }
}

/** @param {HTMLButtonElement} button */
async function revokeToken(button) {
  const row = /** @type {HTMLElement | null} */ (button.closest(".token-row"));
  if (!row) return;
  const name = row.dataset.name || "";
  const yes = await confirmDelete(`Revoke the token “${name}”?`, "Programs using it stop working at once.");
  if (!yes) {
    button.focus();
    return;
  }
  try {
    await api(`/api/tokens/${encodeURIComponent(row.dataset.tokenId || "")}`, { method: "DELETE" });
    await refresh();
    say("token-status", `Revoked the token “${name}”.`, "ok");
  } catch (error) {
    say("token-status", message(error), "error");
  }
}

/** @param {HTMLFormElement} form */
async function changePassword(form) {
  const value = (/** @type {string} */ name) =>
    /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value;
  if (value("new") !== value("repeat")) {
    say("password-status", "The two new passwords differ.", "error");
    return;
  }
  try {
    await api("/api/password", { method: "PUT", body: { currentPassword: value("current"), newPassword: value("new") } });
    // The session was renewed (a new cookie and CSRF token): load the page with them.
    location.reload();
  } catch (error) {
    say("password-status", message(error), "error");
  }
}

export function initFamily() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    /** @type {((form: HTMLFormElement) => Promise<void>) | null} */
    let action = null;
    if (form.id === "profile-create") action = createProfile;
    else if (form.dataset.action === "save-profile") action = saveProfile;
    else if (form.id === "token-create") action = createToken;
    else if (form.id === "password-change") action = changePassword;
    if (!action) return;
    event.preventDefault();
    void action(form);
  });
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
    if (!(button instanceof HTMLButtonElement)) return;
    if (button.dataset.action === "delete-profile") void deleteProfile(button);
    else if (button.dataset.action === "revoke-token") void revokeToken(button);
  });
}
