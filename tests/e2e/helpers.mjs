// Shared helpers of the browser tests: the browser, pages that record console errors (signed in
// as a parent unless asked otherwise), polling, screenshots and direct API calls with the
// parent's API token. scripts/e2e sets the E2E_* variables.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { chromium } from "playwright-core";

export const BASE = required("E2E_BASE_URL");
export const DEV_URL = process.env.E2E_DEV_URL || "";
export const DEV_WEB_DIR = process.env.E2E_DEV_WEB_DIR || "";
export const MEDIA_DIR = process.env.E2E_MEDIA_DIR || "";
/** The production server's library folder (files dropped into it are adopted by a scan). */
export const LIBRARY_DIR = process.env.E2E_LIBRARY_DIR || "";
export const SCREENSHOTS = process.env.E2E_SCREENSHOTS || "artifacts/screenshots";
/** The production server's parent password and a parent API token (scripts/e2e sets both). */
export const PARENT_PASSWORD = required("E2E_PARENT_PASSWORD");
export const TOKEN = required("E2E_TOKEN");

/** Phone and TV/desktop viewports. */
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1920, height: 1080 };

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through scripts/e2e`);
  return value;
}

/** Debian's Chromium with the flags from docs/environment.md. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

/** `fetch` with the parent's API token. */
export function authFetch(url, init = {}) {
  return fetch(url, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${TOKEN}` } });
}

/** The profiles of the production server. */
export async function profiles() {
  const response = await fetch(`${BASE}/api/profiles`);
  assert.equal(response.status, 200);
  return (await response.json()).data.profiles;
}

/**
 * Signs in on the production server through the API: a kid's profile by name, or the parent
 * with the password; returns the session cookie's value.
 * @param {string | null} kid
 */
export async function signIn(kid = null) {
  const all = await profiles();
  const profile = all.find((p) => (kid ? p.kind === "kid" && p.name === kid : p.kind === "parent"));
  assert.ok(profile, `no profile ${kid || "parent"}`);
  const response = await fetch(`${BASE}/api/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ profileId: profile.id, password: kid ? undefined : PARENT_PASSWORD }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  const cookie = /sofathek_session=([^;]+)/.exec(response.headers.get("set-cookie") || "");
  assert.ok(cookie, "a session cookie");
  return cookie[1];
}

/**
 * A fresh context and page; `errors` collects console errors and uncaught exceptions. The
 * context is signed in as the parent (`as: "parent"`, the default), as a kid (`as: {kid}`) or
 * not at all (`as: "none"`, and for the development server, which has no password).
 * @param {import("playwright-core").Browser} browser
 * @param {{viewport?: {width: number, height: number}, javaScriptEnabled?: boolean, colorScheme?: "light" | "dark", as?: "parent" | "none" | {kid: string}}} [options]
 */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({
    viewport: options.viewport || DESKTOP,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    colorScheme: options.colorScheme || "dark",
  });
  const as = options.as || "parent";
  if (as !== "none") {
    const value = await signIn(as === "parent" ? null : as.kid);
    await context.addCookies([{ name: "sofathek_session", value, url: BASE, httpOnly: true, sameSite: "Strict" }]);
  }
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  return { context, page, errors };
}

/** Fails with the collected errors, if any. */
export function assertNoErrors(errors, ignore = []) {
  const left = errors.filter((error) => !ignore.some((pattern) => pattern.test(error)));
  assert.deepEqual(left, [], "the page logged errors");
}

/** Polls `check` (sync or async) until it returns a truthy value. */
export async function until(check, { timeout = 30_000, interval = 100, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Saves a full-page screenshot as `<name>-<width>x<height>.png`. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize();
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size.width}x${size.height}.png`), fullPage: true });
}

/** Calls the JSON API from the test process with the parent's token; returns `data`. */
export async function api(path, init = {}) {
  const response = await authFetch(`${BASE}${path}`, {
    ...init,
    headers: { Accept: "application/json", ...(init.body ? { "Content-Type": "application/json" } : {}) },
  });
  const body = await response.json();
  assert.ok(response.ok, `${init.method || "GET"} ${path}: ${response.status} ${JSON.stringify(body)}`);
  return body.data;
}

/** The library's videos by title. */
export async function videosByTitle() {
  const data = await api("/api/videos");
  return new Map(data.videos.map((video) => [video.metadata.title, video]));
}

/** Waits until the page's <video> plays: currentTime moves past `seconds`. */
export async function assertPlays(page, seconds = 1) {
  await page.evaluate(() => {
    const video = /** @type {HTMLVideoElement} */ (document.querySelector("video"));
    video.muted = true;
    return video.play();
  });
  await page.waitForFunction(
    (limit) => {
      const video = /** @type {HTMLVideoElement} */ (document.querySelector("video"));
      return video.currentTime > limit && !video.error;
    },
    seconds,
    { timeout: 20_000 },
  );
  const state = await page.evaluate(() => {
    const video = /** @type {HTMLVideoElement} */ (document.querySelector("video"));
    return { width: video.videoWidth, height: video.videoHeight, time: video.currentTime };
  });
  assert.ok(state.width > 0 && state.height > 0, `decoded frames: ${JSON.stringify(state)}`);
  return state;
}
