// Changes made on the manage page (videos and categories in manage.js, the family section in
// family.js): ask first, send the change to the API, swap the fresh HTML in and say how it went
// in the section's status line.

/**
 * Shows `text` in the status line with the id `id`.
 * @param {string} id
 * @param {string} text
 * @param {"ok" | "error" | ""} [kind]
 */
export function say(id, text, kind = "") {
  const element = document.getElementById(id);
  if (!element) return;
  element.textContent = text;
  element.classList.toggle("ok", kind === "ok");
  element.classList.toggle("error", kind === "error");
}

/**
 * What to tell the user about a failure (an `ApiError` carries the server's message).
 * @param {unknown} error
 * @returns {string}
 */
export function message(error) {
  return error instanceof Error ? error.message : String(error);
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

/**
 * Fetches the page again and swaps the part matching `selector` for the fresh one.
 * @param {string} selector
 */
export async function swapIn(selector) {
  const response = await fetch(location.pathname + location.search, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const now = document.querySelector(selector);
  const next = fresh.querySelector(selector);
  if (now && next) now.replaceWith(document.adoptNode(next));
}

/**
 * The trimmed `name` field of a form. When it is empty, says `missing` as an error in the
 * status line `id`, focuses the field and returns "".
 * @param {HTMLFormElement} form
 * @param {string} id
 * @param {string} missing
 * @returns {string}
 */
export function requiredName(form, id, missing) {
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("name"));
  const name = input.value.trim();
  if (!name) {
    say(id, missing, "error");
    input.focus();
  }
  return name;
}

/**
 * Makes one change and reports it in the status line `id`: `change` sends the request and
 * updates the page, resolving to the message for success; a failure shows its message instead.
 * @param {string} id
 * @param {() => Promise<string>} change
 * @returns {Promise<boolean>} whether the change succeeded
 */
export async function report(id, change) {
  try {
    say(id, await change(), "ok");
    return true;
  } catch (error) {
    say(id, message(error), "error");
    return false;
  }
}

/**
 * `report` after the user confirmed (see `confirmDelete`); when they did not, the focus goes
 * back to the button that asked.
 * @param {HTMLElement} button
 * @param {string} title
 * @param {string} text
 * @param {string} id
 * @param {() => Promise<string>} change
 * @returns {Promise<boolean>} whether the change was confirmed and succeeded
 */
export async function confirmThenReport(button, title, text, id, change) {
  if (!(await confirmDelete(title, text))) {
    button.focus();
    return false;
  }
  return report(id, change);
}
