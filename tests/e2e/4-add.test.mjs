// Adding: a URL from a local media server with live progress to completion (and the library
// updating without a reload), cancel and retry, a failing URL's message and suggestion, an
// upload with a real byte progress bar, drag and drop, and an HEVC upload that ends up playing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { api, assertNoErrors, assertPlays, BASE, launch, MEDIA_DIR, openPage } from "./helpers.mjs";
import { startMediaServer } from "./media-server.mjs";

/** @type {import("playwright-core").Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startMediaServer>>} */
let media;
before(async () => {
  browser = await launch();
  media = await startMediaServer(MEDIA_DIR);
});
after(async () => {
  await browser?.close();
  await media?.close();
});

/** Records every state label a queue item shows, from the page's side. */
async function recordStates(page) {
  await page.evaluate(() => {
    /** @type {any} */ (window).__states = [];
    const record = () => {
      for (const item of document.querySelectorAll(".job")) {
        const label = item.querySelector(".job-state")?.textContent;
        const states = /** @type {any} */ (window).__states;
        if (label && states[states.length - 1] !== label) states.push(label);
      }
    };
    new MutationObserver(record).observe(document.getElementById("queue") || document.body, { subtree: true, childList: true, characterData: true });
  });
}

/** The queue item whose title or URL contains `text`. */
const job = (page, text) => page.locator(".job", { hasText: text }).first();

test("a pasted link downloads with live progress and appears in the library without a reload", async () => {
  const library = await openPage(browser);
  await library.page.goto(`${BASE}/?category=family`);
  assert.ok(await library.page.isVisible("#empty-state"));
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/add`);
  await recordStates(page);
  const url = `${media.url}/clip.mp4`;
  await page.fill("#url", url);
  await page.selectOption("#url-category", "family");
  await page.click("#url-submit");
  await page.waitForSelector("#url-status.ok");
  assert.match(await page.textContent("#url-status"), /^Download started successfully!/);
  assert.equal(await page.inputValue("#url"), "", "the field is cleared");
  const item = job(page, "clip");
  await item.waitFor();
  await page.waitForSelector('.job[data-state="completed"]', { timeout: 120_000 });
  const states = await page.evaluate(() => /** @type {any} */ (window).__states);
  assert.ok(states.length >= 2, `live updates: ${JSON.stringify(states)}`);
  assert.equal(states[states.length - 1], "Done");
  assert.match(await page.textContent("#queue-counts"), /1 completed/);
  // The library page, open all along, shows the new video.
  await library.page.waitForSelector(".card-title", { timeout: 15_000 });
  assert.equal(await library.page.isVisible("#empty-state"), false);
  // Watch it.
  await page.locator('.job[data-state="completed"] a[data-action=watch]').first().click();
  await page.waitForURL(/\/watch\//);
  await assertPlays(page, 1);
  assert.ok(media.requests.some((r) => r.endsWith("/clip.mp4")));
  assertNoErrors(errors);
  assertNoErrors(library.errors);
  await context.close();
  await library.context.close();
});

test("a running download can be cancelled, and retried", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/add`);
  await page.fill("#url", `${media.url}/slow/big.mp4`);
  await page.click("#url-submit");
  const item = job(page, "big.mp4");
  await item.locator(".job-state", { hasText: /Downloading|Working/ }).waitFor({ timeout: 60_000 });
  // Progress is live: the bar moves.
  const first = await item.locator("progress").evaluate((bar) => /** @type {HTMLProgressElement} */ (bar).value).catch(() => 0);
  await page.waitForFunction(
    ([selector, before]) => {
      const bar = /** @type {HTMLProgressElement | null} */ (document.querySelector(selector));
      return bar !== null && bar.value > before;
    },
    ['.job[data-state="running"] progress', first],
    { timeout: 30_000 },
  );
  assert.match(await item.locator(".job-details").textContent(), /\d+%.*of/);
  await item.locator("button[data-action=cancel]").click();
  await item.locator(".job-state", { hasText: "Cancelled" }).waitFor({ timeout: 15_000 });
  await item.locator("button[data-action=retry]").click();
  await item.locator(".job-state", { hasText: /Queued|Downloading|Working/ }).waitFor({ timeout: 15_000 });
  // Clean up: cancel again.
  await item.locator("button[data-action=cancel]").click();
  await item.locator(".job-state", { hasText: "Cancelled" }).waitFor({ timeout: 15_000 });
  const { jobs } = await api("/api/jobs");
  const mine = jobs.find((j) => (j.url || "").endsWith("/slow/big.mp4"));
  assert.equal(mine?.state, "cancelled");
  assert.ok((mine?.attempts || 0) >= 1);
  assertNoErrors(errors);
  await context.close();
});

test("a link that fails shows the message and the suggestion, with a Retry button", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/add`);
  await page.fill("#url", `${media.url}/missing.mp4`);
  await page.click("#url-submit");
  const item = job(page, "missing.mp4");
  await item.locator(".job-state", { hasText: "Failed" }).waitFor({ timeout: 60_000 });
  const message = (await item.locator(".job-error").textContent()) || "";
  const suggestion = (await item.locator(".job-suggestion").textContent()) || "";
  assert.ok(message.length > 10, message);
  assert.ok(suggestion.length > 10, suggestion);
  assert.ok(await item.locator("button[data-action=retry]").isVisible());
  assertNoErrors(errors);
  await context.close();
});

test("typing mistakes are caught before anything is sent", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/add`);
  for (const bad of ["not-a-url", "ftp://example.com/video.mp4", ""]) {
    await page.fill("#url", bad);
    await page.click("#url-submit");
    await page.waitForSelector("#url-error:not([hidden])");
    assert.equal(await page.getAttribute("#url", "aria-invalid"), "true");
  }
  await page.fill("#url", "https://");
  await page.waitForSelector("#url-error", { state: "hidden" });
  assertNoErrors(errors);
  await context.close();
});

test("an upload shows real byte progress, then the job finishes and plays", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/add`);
  // Slow the upload down so the progress bar has something to show.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });
  await page.setInputFiles("#upload-file", join(MEDIA_DIR, "big.mp4"));
  assert.match(await page.textContent("#upload-chosen"), /^big\.mp4 \([\d.]+ MB\)$/);
  await page.fill("#upload-title", "Uploaded Big Clip");
  await page.selectOption("#upload-category", "kids");
  await page.evaluate(() => {
    /** @type {any} */ (window).__progress = [];
    const sample = () => {
      const bar = /** @type {HTMLProgressElement} */ (document.getElementById("upload-bar"));
      const box = document.getElementById("upload-progress");
      if (box && !box.hidden) /** @type {any} */ (window).__progress.push([bar.value, bar.max, document.getElementById("upload-text")?.textContent]);
    };
    setInterval(sample, 50);
  });
  await page.click("#upload-submit");
  await page.waitForSelector("#upload-status.ok", { timeout: 60_000 });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const samples = await page.evaluate(() => /** @type {any} */ (window).__progress);
  const partial = samples.filter(([value, max]) => value > 0 && value < max);
  assert.ok(partial.length >= 2, `progress between 0 and 100%: ${JSON.stringify(samples.slice(0, 5))}…`);
  assert.ok(partial.some(([, , text]) => / of [\d.]+ MB · \d+%/.test(text || "")), JSON.stringify(partial[0]));
  assert.match(await page.textContent("#upload-status"), /Upload complete/);
  const item = job(page, "Uploaded Big Clip");
  await item.locator(".job-state", { hasText: "Done" }).waitFor({ timeout: 120_000 });
  await item.locator("a[data-action=watch]").click();
  await page.waitForURL(/\/watch\//);
  assert.equal(await page.textContent("h1"), "Uploaded Big Clip");
  await assertPlays(page, 1);
  assertNoErrors(errors);
  await context.close();
});

test("files dropped on the drop zone are chosen for upload", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/add`);
  await page.evaluate(async () => {
    const blob = await (await fetch("/api/stream/Counting_Song-e2e02.mp4")).blob();
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], "dropped-song.mp4", { type: "video/mp4" }));
    const zone = /** @type {HTMLElement} */ (document.getElementById("dropzone"));
    zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  assert.match(await page.textContent("#upload-chosen"), /^dropped-song\.mp4/);
  await page.click("#upload-submit");
  await page.waitForSelector("#upload-status.ok", { timeout: 60_000 });
  await job(page, "dropped-song").locator(".job-state", { hasText: "Done" }).waitFor({ timeout: 120_000 });
  assertNoErrors(errors);
  await context.close();
});

test("an HEVC upload is converted and then plays in Chromium", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/add`);
  await page.setInputFiles("#upload-file", join(MEDIA_DIR, "hevc-upload.mkv"));
  await page.fill("#upload-title", "HEVC Upload");
  await page.click("#upload-submit");
  await page.waitForSelector("#upload-status.ok", { timeout: 60_000 });
  const item = job(page, "HEVC Upload");
  await item.locator(".job-state", { hasText: "Done" }).waitFor({ timeout: 180_000 });
  await item.locator("a[data-action=watch]").click();
  await page.waitForURL(/\/watch\//);
  const state = await assertPlays(page, 1);
  assert.equal(state.width, 320, "a real picture, not HEVC's 0×0");
  assertNoErrors(errors);
  await context.close();
});
