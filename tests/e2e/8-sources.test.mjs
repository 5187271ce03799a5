// Sources: a parent follows a feed on Manage (the local media server's /feed.xml), the first
// check lists its episodes in "To approve" with their pictures, one is approved and arrives in
// the library (the queue says which source it came from), the other is rejected and leaves the
// list; "Check now" follows a check to its end; the source can be paused and stopped.
// Screenshots at phone and desktop size.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { api, assertNoErrors, BASE, DESKTOP, launch, MEDIA_DIR, openPage, PHONE, screenshot, until } from "./helpers.mjs";
import { FEED_EPISODES, startMediaServer } from "./media-server.mjs";

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

const [newest, older] = FEED_EPISODES;

/** @param {import("playwright-core").Page} page */
const approvalTitles = (page) => page.$$eval(".approval-row .approval-title", (labels) => labels.map((l) => l.textContent));

test("a parent follows a feed, approves an episode that reaches the library and rejects another", async () => {
  const { page, errors } = await openPage(browser);
  await page.goto(`${BASE}/manage`);
  assert.ok(await page.isVisible("#sources-empty"), "no source yet");
  assert.ok(await page.isVisible("#approvals-empty"), "nothing to approve yet");

  await page.fill("#source-url", `${media.url}/feed.xml`);
  await page.selectOption("#source-category", "kids");
  assert.equal(await page.inputValue("#source-approval"), "review", "asking first is the default");
  await page.fill("#source-latest", "2");
  await page.click('#source-create button[type="submit"]');
  await page.waitForSelector("#source-form-status.ok", { timeout: 60_000 });
  assert.match(await page.textContent("#source-form-status"), /Following E2E Science Club/);
  assert.equal(await page.inputValue("#source-url"), "", "the form is cleared");

  // The first check ran: both episodes wait, with their pictures, nothing was downloaded.
  const row = page.locator(".source-row", { hasText: "E2E Science Club" });
  await row.waitFor();
  assert.match(await row.textContent(), /asks first/);
  assert.match(await row.textContent(), /2 waiting for approval/);
  await until(async () => (await approvalTitles(page)).length === 2, { message: "two entries to approve" });
  assert.deepEqual(await approvalTitles(page), [older.title, newest.title], "oldest first");
  await page.waitForFunction(
    () => [...document.querySelectorAll(".approval-row img")].filter((img) => /** @type {HTMLImageElement} */ (img).naturalWidth > 0).length === 2,
    undefined,
    { timeout: 20_000 },
  );
  assert.equal(media.requests.filter((r) => r.startsWith("GET /clip.mp4")).length, 0, "nothing downloaded before approval");
  await screenshot(page, "sources");
  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling on a phone (${overflow} px)`);
  assert.ok(await page.isVisible(".approval-row img"), "the pictures stay on a phone");
  await screenshot(page, "sources");
  await page.setViewportSize(DESKTOP);

  // Approve the newest episode with its own button; reject the other by ticking it.
  await page.click(`button[aria-label="Approve ${newest.title}"]`);
  await page.waitForSelector("#approvals-status.ok");
  assert.match(await page.textContent("#approvals-status"), /1 video approved/);
  await until(async () => (await approvalTitles(page)).length === 1, { message: "the approved entry leaves the list" });
  await page.check(`input[aria-label="Select ${older.title}"]`);
  await page.click('button[data-action="reject-selected"]');
  await until(async () => (await approvalTitles(page)).length === 0, { message: "the rejected entry leaves the list" });
  assert.match(await page.textContent("#approvals-status"), /1 video rejected/);
  assert.ok(await page.isVisible("#approvals-empty"));

  // The approved episode downloads as an ordinary job that names its source, and is published.
  const done = await until(
    async () => {
      const { jobs } = await api("/api/jobs");
      const job = jobs.find((j) => j.source?.name === "E2E Science Club");
      return job && ["completed", "failed"].includes(job.state) ? job : null;
    },
    { timeout: 120_000, interval: 500, message: "the approved episode's job" },
  );
  assert.equal(done.state, "completed", JSON.stringify(done.error));
  assert.equal(done.category, "kids");
  const add = await openPage(browser);
  await add.page.goto(`${BASE}/add`);
  const item = add.page.locator(".job", { hasText: newest.title }).first();
  await item.waitFor();
  assert.match(await item.textContent(), /from E2E Science Club/);
  await add.context.close();

  const library = await openPage(browser);
  await library.page.goto(`${BASE}/?category=kids`);
  const titles = await library.page.$$eval(".card-title", (cards) => cards.map((c) => c.textContent?.trim()));
  assert.ok(titles.includes(newest.title), `the library shows it: ${titles}`);
  assert.ok(!titles.includes(older.title), "the rejected one never arrives");
  assertNoErrors(library.errors);
  await library.context.close();

  // Check now: the check runs and the panel says when it ended; nothing new is offered.
  await page.reload();
  await row.waitFor();
  await until(async () => /1 video downloaded/.test((await row.textContent()) || ""), { message: "the count of downloaded videos" });
  const checkedBefore = (await api("/api/sources")).sources.find((s) => s.name === "E2E Science Club").lastCheckAt;
  await page.click('button[aria-label="Check E2E Science Club now"]');
  await page.waitForSelector("#sources-status.ok", { timeout: 60_000 });
  assert.match(await page.textContent("#sources-status"), /E2E Science Club checked/);
  const checked = (await api("/api/sources")).sources.find((s) => s.name === "E2E Science Club");
  assert.notEqual(checked.lastCheckAt, checkedBefore, "a new check ran");
  assert.equal(checked.lastError, null);
  assert.match(await row.textContent(), /Checked (just now|\d+ min ago) · next check in/);
  assert.equal(await approvalTitles(page).then((titles) => titles.length), 0, "a rejected entry is not offered again");

  // Pause, then stop following; the video stays.
  await page.click('button[aria-label="Pause E2E Science Club"]');
  await page.waitForSelector("#sources-status.ok");
  await until(async () => /paused/i.test((await row.textContent()) || ""), { message: "the source shows paused" });
  await page.click('button[aria-label="Stop following E2E Science Club"]');
  await page.waitForSelector("#confirm-dialog[open]");
  await page.click("#confirm-ok");
  await until(async () => (await page.locator(".source-row").count()) === 0, { message: "the source leaves the list" });
  const videos = await api("/api/videos?category=kids");
  assert.ok(videos.videos.some((v) => v.metadata.title === newest.title), "its video stays");
  assertNoErrors(errors);
});

test("the empty sources panels fit a phone", async () => {
  const { page, errors, context } = await openPage(browser, { viewport: PHONE });
  await page.goto(`${BASE}/manage#sources`);
  await page.waitForSelector("#source-create");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow} px)`);
  assert.ok(await page.isVisible("#sources-empty"));
  await screenshot(page, "sources-empty");
  assertNoErrors(errors);
  await context.close();
});
