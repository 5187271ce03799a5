// The small pure helpers of the theme, API, health, card, library, add and manage modules.
import assert from "node:assert/strict";
import { test } from "node:test";

import { jobOf, windowSpeed } from "../assets/add.js";
import { api, ApiError, errorMessage, OFFLINE_MESSAGE } from "../assets/api.js";
import { cardModel } from "../assets/cards.js";
import { bannerText, isHealthy } from "../assets/health.js";
import { pageUrl, searchUrl } from "../assets/library.js";
import { videoChanges } from "../assets/manage.js";
import { DEFAULT_THEME, effectiveTheme, normaliseTheme } from "../assets/theme.js";

test("themes: light, dark or system, dark by default as the original", () => {
  assert.equal(DEFAULT_THEME, "dark");
  assert.equal(normaliseTheme(null), "dark");
  assert.equal(normaliseTheme("light"), "light");
  assert.equal(normaliseTheme("purple"), "dark");
  assert.equal(effectiveTheme("system", true), "dark");
  assert.equal(effectiveTheme("system", false), "light");
  assert.equal(effectiveTheme("light", true), "light");
});

test("error messages come from either error shape", () => {
  assert.equal(errorMessage({ status: "error", message: "Invalid video URL format" }, 400), "Invalid video URL format");
  assert.equal(errorMessage({ status: "error", error: { message: "Dev shape" } }, 500), "Dev shape");
  assert.equal(errorMessage("plain text", 502), "plain text");
  assert.equal(errorMessage(null, 503), "Request failed (HTTP 503)");
});

test("api() unwraps the envelope and turns failures into ApiError", async (t) => {
  const answers = [
    () => new Response(JSON.stringify({ status: "success", data: { ok: 1 } }), { status: 200 }),
    () => new Response(JSON.stringify({ status: "error", message: "nope", code: "BAD_REQUEST" }), { status: 400 }),
    () => {
      throw new TypeError("fetch failed");
    },
  ];
  const calls = [];
  t.mock.method(globalThis, "fetch", async (url, init) => {
    calls.push([url, init]);
    return answers[calls.length - 1]();
  });
  assert.deepEqual(await api("/api/x", { method: "POST", body: { a: 1 } }), { ok: 1 });
  assert.equal(calls[0][1].body, '{"a":1}');
  assert.equal(calls[0][1].headers["Content-Type"], "application/json");
  await assert.rejects(api("/api/x"), (error) => error instanceof ApiError && error.status === 400 && error.code === "BAD_REQUEST" && error.message === "nope");
  await assert.rejects(api("/api/x"), (error) => error instanceof ApiError && error.status === 0 && error.message === OFFLINE_MESSAGE);
});

test("health: healthy and warning are fine, like the original", () => {
  assert.equal(isHealthy(200, { status: "healthy" }), true);
  assert.equal(isHealthy(200, { status: "warning" }), true);
  assert.equal(isHealthy(503, { status: "critical" }), false);
  assert.equal(isHealthy(0, null), false);
  assert.equal(isHealthy(404, { status: "healthy" }), false);
  const when = new Date(2024, 0, 1, 10, 0, 0);
  assert.match(bannerText(0, when, 1), /cannot be reached/);
  assert.match(bannerText(503, when, 3), /problem.*\(3 retries\)/);
});

test("cards from the API's video shape", () => {
  const model = cardModel({
    id: "My Clip",
    file: { name: "My Clip.mp4" },
    metadata: { title: "Clip", duration: 65, thumbnail: "My Clip.webp" },
  });
  assert.deepEqual(model, {
    id: "My Clip",
    title: "Clip",
    href: "/watch/My%20Clip",
    thumbnail: "/api/thumbnails/My%20Clip.webp",
    duration: "1:05",
  });
  assert.equal(cardModel({ id: "x", file: { name: "x.mp4" }, metadata: {} }).thumbnail, null);
});

test("search and page URLs", () => {
  assert.equal(searchUrl({ q: " cats ", category: "kids", sort: "title" }), "/api/videos?q=cats&category=kids&sort=title&limit=48");
  assert.equal(pageUrl({ q: "", view: "channel", sort: "-added" }), "/?view=channel");
  assert.equal(pageUrl({ q: "a&b", category: "", sort: "title", view: "channel" }), "/?q=a%26b&sort=title");
  assert.equal(pageUrl({ q: "" }), "/");
});

test("job answers and upload speed", () => {
  assert.equal(jobOf({ job: { id: "a" } }).id, "a");
  assert.equal(jobOf({ id: "b", state: "queued" }).id, "b");
  assert.equal(jobOf({ message: "x" }), null);
  assert.equal(jobOf(null), null);
  assert.equal(windowSpeed([{ t: 0, bytes: 0 }]), null);
  assert.equal(windowSpeed([{ t: 0, bytes: 0 }, { t: 2000, bytes: 4000 }]), 2000);
});

test("manage sends only what changed", () => {
  assert.equal(videoChanges({ title: "A", category: "" }, { title: "A", category: "" }), null);
  assert.deepEqual(videoChanges({ title: " B ", category: "" }, { title: "A", category: "" }), { title: "B" });
  assert.deepEqual(videoChanges({ title: "A", category: "" }, { title: "A", category: "kids" }), { category: null });
  assert.deepEqual(videoChanges({ title: "A", category: "music" }, { title: "A", category: "" }), { category: "music" });
});
