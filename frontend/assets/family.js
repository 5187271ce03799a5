// The family part of the manage page: kids' profiles and their categories, API tokens and the
// parent password. Handlers are delegated, so the section can be swapped after a change.

import { api } from "./api.js";
import { confirmThenReport, message, report, requiredName, say, swapIn } from "./changes.js";

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
function refresh() {
  return swapIn("#family");
}

/** @param {HTMLFormElement} form */
async function createProfile(form) {
  const name = requiredName(form, "profile-status", "A profile needs a name.");
  if (!name) return;
  const done = await report("profile-status", async () => {
    await api("/api/profiles", { method: "POST", body: { name, categories: checkedCategories(form) } });
    await refresh();
    return `Added the profile “${name}”.`;
  });
  if (done) document.getElementById("new-profile")?.focus();
}

/** @param {HTMLFormElement} form */
async function saveProfile(form) {
  const row = /** @type {HTMLElement | null} */ (form.closest(".profile-row"));
  if (!row) return;
  const name = row.dataset.name || "";
  await report("profile-status", async () => {
    await api(`/api/profiles/${encodeURIComponent(row.dataset.profileId || "")}`, {
      method: "PATCH",
      body: { categories: checkedCategories(form) },
    });
    await refresh();
    return `Saved the categories of “${name}”.`;
  });
}

/** @param {HTMLButtonElement} button */
async function deleteProfile(button) {
  const row = /** @type {HTMLElement | null} */ (button.closest(".profile-row"));
  if (!row) return;
  const name = row.dataset.name || "";
  const question = `Delete the profile “${name}”?`;
  await confirmThenReport(button, question, "Its watch history goes with it. The videos stay.", "profile-status", async () => {
    await api(`/api/profiles/${encodeURIComponent(row.dataset.profileId || "")}`, { method: "DELETE" });
    await refresh();
    return `Deleted the profile “${name}”.`;
  });
}

/** @param {HTMLFormElement} form */
async function createToken(form) {
  const name = requiredName(form, "token-status", "Say what the token is for.");
  if (!name) return;
  await report("token-status", async () => {
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
    return `Created the token “${name}”.`;
  });
}

/** @param {HTMLButtonElement} button */
async function revokeToken(button) {
  const row = /** @type {HTMLElement | null} */ (button.closest(".token-row"));
  if (!row) return;
  const name = row.dataset.name || "";
  const question = `Revoke the token “${name}”?`;
  await confirmThenReport(button, question, "Programs using it stop working at once.", "token-status", async () => {
    await api(`/api/tokens/${encodeURIComponent(row.dataset.tokenId || "")}`, { method: "DELETE" });
    await refresh();
    return `Revoked the token “${name}”.`;
  });
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
