// Watching: the video really plays in Chromium, subtitles load, resume works, a file the
// browser cannot play gets a clear message, up next, downloads.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { assertNoErrors, assertPlays, authFetch, BASE, launch, openPage } from "./helpers.mjs";

/** @type {import("playwright-core").Browser} */
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a video plays: currentTime advances and frames are decoded", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/?category=kids`);
  await page.click("text=Rainbow Bars");
  await page.waitForURL(/\/watch\/Rainbow_Bars-e2e01$/);
  assert.equal(await page.textContent("h1"), "Rainbow Bars");
  const state = await assertPlays(page, 1.5);
  assert.equal(state.width, 320);
  assertNoErrors(errors);
  await context.close();
});

test("subtitles are offered as a WebVTT track and load", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/watch/Rainbow_Bars-e2e01`);
  const track = await page.$eval("track", (t) => ({ src: t.getAttribute("src"), lang: t.srclang, label: t.label, kind: t.kind }));
  assert.deepEqual(track, { src: "/api/download/Rainbow_Bars-e2e01.en.vtt", lang: "en", label: "English", kind: "subtitles" });
  const cues = await page.evaluate(async () => {
    const video = /** @type {HTMLVideoElement} */ (document.querySelector("video"));
    const textTrack = video.textTracks[0];
    textTrack.mode = "showing";
    for (let i = 0; i < 50 && !(textTrack.cues && textTrack.cues.length); i += 1) await new Promise((r) => setTimeout(r, 100));
    return Array.from(textTrack.cues || []).map((cue) => /** @type {VTTCue} */ (cue).text);
  });
  assert.deepEqual(cues, ["Hello from the subtitles"]);
  const downloads = await page.$$eval(".downloads a", (links) => links.map((a) => [a.textContent?.trim(), a.getAttribute("href"), a.getAttribute("download")]));
  assert.deepEqual(downloads[0], ["Download video", "/api/download/Rainbow_Bars-e2e01.mp4", "Rainbow_Bars-e2e01.mp4"]);
  assert.ok(downloads.some(([label]) => /^Subtitles: English/.test(label || "")), JSON.stringify(downloads));
  const download = await authFetch(`${BASE}${downloads[0][1]}`, { method: "HEAD" });
  assert.equal(download.status, 200);
  assert.match(download.headers.get("content-disposition") || "", /^attachment/);
  assertNoErrors(errors);
  await context.close();
});

test("playback resumes where it stopped, and can start over", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/watch/Rainbow_Bars-e2e01`);
  await page.waitForFunction(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).readyState >= 1);
  await page.evaluate(() => {
    const video = /** @type {HTMLVideoElement} */ (document.querySelector("video"));
    video.currentTime = 12;
  });
  await page.waitForFunction(() => !(/** @type {HTMLVideoElement} */ (document.querySelector("video")).seeking));
  await page.evaluate(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).pause());
  await page.goto(`${BASE}/watch/Rainbow_Bars-e2e01`);
  await page.waitForSelector("#resume-note:not([hidden])");
  assert.equal(await page.textContent("#resume-text"), "Resumed at 0:12.");
  const time = await page.evaluate(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).currentTime);
  assert.ok(Math.abs(time - 12) < 0.6, `resumed at ${time}`);
  await page.click("#resume-restart");
  await page.waitForSelector("#resume-note", { state: "hidden" });
  const restarted = await page.evaluate(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).currentTime);
  assert.ok(restarted < 2, `started over at ${restarted}`);
  await page.evaluate(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).pause());
  // Another video has its own position.
  await page.goto(`${BASE}/watch/Counting_Song-e2e02`);
  await page.waitForFunction(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).readyState >= 1);
  assert.ok(await page.isHidden("#resume-note"));
  assertNoErrors(errors);
  await context.close();
});

test("a file Chromium cannot play gets a clear message, not a black box", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/watch/Unplayable_HEVC-e2e06`);
  await page.evaluate(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).play().catch(() => {}));
  await page.waitForSelector("#player-error:not([hidden])", { timeout: 15_000 });
  const text = await page.textContent("#player-error-text");
  assert.match(text, /cannot be played in this browser|could not be decoded|cannot show the picture/);
  assert.ok(await page.isVisible("#player-retry"));
  // The download link is still there.
  assert.ok(await page.isVisible("text=Download video"));
  assertNoErrors(errors, [/MEDIA_ERR|Failed to load|DEMUXER|decode|format/i]);
  await context.close();
});

test("when a video ends, the next one is offered and can be cancelled", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/watch/Counting_Song-e2e02`);
  const next = await page.getAttribute("#watch", "data-next-href");
  assert.ok(next && next.startsWith("/watch/"), String(next));
  await page.waitForFunction(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).readyState >= 1);
  await page.evaluate(() => {
    const video = /** @type {HTMLVideoElement} */ (document.querySelector("video"));
    video.muted = true;
    video.currentTime = video.duration - 0.5;
    return video.play();
  });
  await page.waitForSelector("#up-next:not([hidden])", { timeout: 15_000 });
  assert.ok((await page.textContent("#up-next-title"))?.length);
  assert.equal(await page.getAttribute("#up-next-play", "href"), next);
  await page.click("#up-next-cancel");
  await page.waitForSelector("#up-next", { state: "hidden" });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.match(page.url(), /Counting_Song-e2e02$/, "cancel stays on the video");
  assertNoErrors(errors);
  await context.close();
});

test("an unknown video is a friendly 404 page", async () => {
  const { page, context } = await openPage(browser);
  const response = await page.goto(`${BASE}/watch/does-not-exist`);
  assert.equal(response?.status(), 404);
  assert.equal(await page.textContent("h1"), "Video not found");
  await page.click("text=Back to the library");
  await page.waitForURL(`${BASE}/`);
  await context.close();
});
