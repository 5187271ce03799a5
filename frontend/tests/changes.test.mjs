// The manage page's shared change helpers (assets/changes.js), against a minimal stand-in for
// the document: status lines, required names, reporting and the confirm-first flow.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { ApiError } from "../assets/api.js";
import { confirmThenReport, message, report, requiredName } from "../assets/changes.js";

/** A status line or input: text, value, classes and whether it was focused. */
function element(value = "") {
  const classes = new Set();
  return {
    textContent: "",
    value,
    focused: false,
    focus() {
      this.focused = true;
    },
    classList: {
      toggle: (name, on) => (on ? classes.add(name) : classes.delete(name)),
      contains: (name) => classes.has(name),
    },
  };
}

/** @type {Record<string, ReturnType<typeof element>>} */
let elements;
let answer;

beforeEach(() => {
  elements = { status: element() };
  answer = false;
  globalThis.document = { getElementById: (id) => elements[id] ?? null };
  globalThis.window = { confirm: () => answer };
});

afterEach(() => {
  delete globalThis.document;
  delete globalThis.window;
});

test("failures read as their message", () => {
  assert.equal(message(new ApiError("Category exists", 409, "CONFLICT")), "Category exists");
  assert.equal(message(new Error("boom")), "boom");
  assert.equal(message("plain"), "plain");
});

test("a change that succeeds says its message as ok", async () => {
  assert.equal(await report("status", async () => "Saved “A”."), true);
  assert.equal(elements.status.textContent, "Saved “A”.");
  assert.ok(elements.status.classList.contains("ok"));
  assert.ok(!elements.status.classList.contains("error"));
});

test("a change that fails says the error", async () => {
  const failing = async () => {
    throw new ApiError("Backend down", 0, "NETWORK");
  };
  assert.equal(await report("status", failing), false);
  assert.equal(elements.status.textContent, "Backend down");
  assert.ok(elements.status.classList.contains("error"));
  assert.ok(!elements.status.classList.contains("ok"));
});

test("an empty name is refused in the status line and focused", () => {
  const input = element("  ");
  const form = { elements: { namedItem: (name) => (name === "name" ? input : null) } };
  assert.equal(requiredName(form, "status", "A category needs a name."), "");
  assert.equal(elements.status.textContent, "A category needs a name.");
  assert.ok(elements.status.classList.contains("error"));
  assert.ok(input.focused);
  input.value = " Music ";
  input.focused = false;
  assert.equal(requiredName(form, "status", "unused"), "Music");
  assert.ok(!input.focused);
});

test("nothing is changed until confirmed; declining gives the focus back", async () => {
  const button = element();
  let calls = 0;
  const change = async () => {
    calls += 1;
    return "Deleted.";
  };
  assert.equal(await confirmThenReport(button, "Delete?", "Sure?", "status", change), false);
  assert.equal(calls, 0);
  assert.ok(button.focused);
  assert.equal(elements.status.textContent, "");
  answer = true;
  button.focused = false;
  assert.equal(await confirmThenReport(button, "Delete?", "Sure?", "status", change), true);
  assert.equal(calls, 1);
  assert.ok(!button.focused);
  assert.equal(elements.status.textContent, "Deleted.");
});
