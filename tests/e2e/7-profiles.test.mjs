// Family profiles: "Who's watching?", the parent's sign-in (wrong password refused), a kid's
// profile made on the manage page, the kid's restricted view on every path (library, search,
// player, direct file URLs, parent pages), "Continue watching", signing out, and the first-run
// setup on a server without a password.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { assertNoErrors, BASE, DEV_URL, launch, openPage, PARENT_PASSWORD, screenshot } from "./helpers.mjs";

/** @type {import("playwright-core").Browser} */
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const cardTitles = (page, scope = "") =>
  page.$$eval(`${scope} .card-title`, (nodes) => nodes.map((node) => node.textContent?.trim()));

test("without a profile the library asks who is watching; the parent signs in with the password", async () => {
  const { page, errors, context } = await openPage(browser, { as: "none" });
  await page.goto(`${BASE}/`);
  await page.waitForURL(/\/profiles\?next=%2F$/);
  assert.equal(await page.textContent("h1"), "Who's watching?");
  await screenshot(page, "profiles");
  // A parent page leads to the password.
  await page.goto(`${BASE}/manage`);
  await page.waitForURL(/\/signin\?next=%2Fmanage$/);
  await page.fill("#signin-password", "not the password");
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#signin-error");
  assert.equal(await page.textContent("#signin-error"), "Wrong password");
  await screenshot(page, "signin-error");
  await page.fill("#signin-password", PARENT_PASSWORD);
  await page.click("#signin-form button[type=submit]");
  await page.waitForURL(`${BASE}/manage`);
  assert.equal(await page.textContent(".profile-menu-name"), "Parents");
  // The parent makes a kid's profile that sees only "Kids".
  await page.fill("#new-profile", "Mia");
  await page.check('#profile-create input[value="kids"]');
  await page.uncheck('#profile-create input[value="music"]');
  await page.click("#profile-create button[type=submit]");
  await page.waitForSelector('.profile-row[data-name="Mia"]');
  assert.equal(await page.textContent("#profile-status"), "Added the profile “Mia”.");
  assert.match(await page.textContent('.profile-row[data-name="Mia"] .details'), /^Sees Kids$/);
  await screenshot(page, "manage-profiles");
  // Signing out ends the session and goes back to the picker.
  await page.click(".profile-menu summary");
  await page.click("#sign-out");
  await page.waitForURL(`${BASE}/profiles`);
  assert.ok(await page.isVisible('.profile-choice[data-profile="Mia"]'));
  const response = await page.request.get(`${BASE}/api/jobs`);
  assert.equal(response.status(), 401);
  assertNoErrors(errors, [/401/]);
  await context.close();
});

test("a kid sees only the allowed categories, by every path", async () => {
  const { page, errors, context } = await openPage(browser, { as: "none" });
  await page.goto(`${BASE}/`);
  await page.waitForURL(/\/profiles/);
  await page.click('.profile-choice[data-profile="Mia"]');
  await page.waitForURL(`${BASE}/`);
  assert.equal(await page.textContent(".profile-menu-name"), "Mia");
  const titles = await cardTitles(page);
  assert.ok(titles.includes("Rainbow Bars"), titles.join(", "));
  for (const hidden of ["Piano Practice", "Unplayable HEVC", "Edited Title"]) {
    assert.ok(!titles.includes(hidden), `${hidden} is shown to the kid: ${titles.join(", ")}`);
  }
  const rows = await page.$$eval(".row h2", (nodes) => nodes.map((n) => n.firstChild?.textContent?.trim()));
  assert.deepEqual(rows, ["Kids"]);
  // No parent links; the parent pages ask for the password.
  assert.equal(await page.$('.site-nav a[href="/add"]'), null);
  assert.equal(await page.$('.site-nav a[href="/manage"]'), null);
  await screenshot(page, "library-kid");
  await page.goto(`${BASE}/add`);
  await page.waitForURL(/\/signin\?next=%2Fadd$/);
  // Search finds nothing outside the allowed categories.
  await page.goto(`${BASE}/?q=piano`);
  assert.deepEqual(await cardTitles(page, "#library-content"), []);
  // The player and the file URLs answer as if the video did not exist.
  const player = await page.goto(`${BASE}/watch/Piano_Practice-e2e05`);
  assert.equal(player?.status(), 404);
  for (const path of [
    "/api/stream/Piano_Practice-e2e05.mp4",
    "/api/download/Piano_Practice-e2e05.mp4",
    "/api/videos/Piano_Practice-e2e05",
  ]) {
    const response = await page.request.get(`${BASE}${path}`);
    assert.equal(response.status(), 404, path);
  }
  const listing = await (await page.request.get(`${BASE}/api/videos`)).json();
  assert.ok(listing.data.videos.every((video) => video.category === "kids"), JSON.stringify(listing.data.videos.map((v) => v.category)));
  // Watching a while puts the video on the "Continue watching" row, kept on the server.
  await page.goto(`${BASE}/watch/Rainbow_Bars-e2e01`);
  await page.waitForFunction(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).readyState >= 1);
  const saved = page.waitForResponse((r) => r.url().includes("/api/progress/Rainbow_Bars-e2e01") && r.request().method() === "PUT");
  await page.evaluate(() => {
    const video = /** @type {HTMLVideoElement} */ (document.querySelector("video"));
    video.currentTime = 15;
  });
  await page.waitForFunction(() => !(/** @type {HTMLVideoElement} */ (document.querySelector("video")).seeking));
  await page.evaluate(() => /** @type {HTMLVideoElement} */ (document.querySelector("video")).pause());
  assert.equal((await saved).status(), 200);
  // Let the report of the pause arrive too.
  await page.waitForTimeout(300);
  await page.goto(`${BASE}/`);
  await page.waitForSelector("#continue-watching");
  assert.deepEqual(await cardTitles(page, "#continue-watching"), ["Rainbow Bars"]);
  const progress = await (await page.request.get(`${BASE}/api/progress`)).json();
  assert.ok(Math.abs(progress.data.continueWatching[0].progress.position - 15) < 1, JSON.stringify(progress.data));
  // A new browser for the same profile resumes from the server.
  const other = await openPage(browser, { as: { kid: "Mia" } });
  await other.page.goto(`${BASE}/watch/Rainbow_Bars-e2e01`);
  await other.page.waitForSelector("#resume-note:not([hidden])");
  assert.equal(await other.page.textContent("#resume-text"), "Resumed at 0:15.");
  await other.context.close();
  assertNoErrors(errors, [/404/]);
  await context.close();
});

test("first-run setup: a server without a password asks for one", { skip: !DEV_URL }, async () => {
  const { page, errors, context } = await openPage(browser, { as: "none" });
  await page.goto(DEV_URL);
  assert.ok(await page.isVisible("#setup-notice"));
  await page.goto(`${DEV_URL}/manage`);
  await page.waitForURL(`${DEV_URL}/setup`);
  await screenshot(page, "setup");
  await page.fill("#setup-password", "a family password");
  await page.fill("#setup-confirm", "another password");
  await page.click("#setup-form button[type=submit]");
  await page.waitForSelector("#setup-error");
  assert.equal(await page.textContent("#setup-error"), "The two passwords differ");
  await page.fill("#setup-password", "a family password");
  await page.fill("#setup-confirm", "a family password");
  await page.click("#setup-form button[type=submit]");
  await page.waitForURL(`${DEV_URL}/manage#profiles`);
  assert.equal(await page.textContent(".profile-menu-name"), "Parents");
  assert.equal(await page.$("#setup-notice"), null);
  // The setup happens once.
  await page.goto(`${DEV_URL}/setup`);
  await page.waitForURL(`${DEV_URL}/profiles`);
  // The refused first attempt answered 400.
  assertNoErrors(errors, [/400/]);
  await context.close();
});
