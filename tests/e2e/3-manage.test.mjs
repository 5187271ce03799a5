// Managing: edit a title and a category, delete a video after confirming, and add, rename and
// delete categories.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { copyFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { api, assertNoErrors, authFetch, BASE, LIBRARY_DIR, launch, MEDIA_DIR, openPage, videosByTitle } from "./helpers.mjs";

/** @type {import("playwright-core").Browser} */
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const row = (title) => `.manage-row:has(input[name=title][value="${title}"])`;

test("edit a title and a category", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/manage`);
  const item = page.locator(row("Edit Me"));
  await item.locator("input[name=title]").fill("Edited Title");
  await item.locator("select[name=category]").selectOption("education");
  await item.locator("button[type=submit]").click();
  await page.waitForSelector("#manage-status.ok");
  assert.equal(await page.textContent("#manage-status"), "Saved “Edited Title”.");
  const video = (await videosByTitle()).get("Edited Title");
  assert.ok(video, "renamed in the catalogue");
  assert.equal(video.category, "education");
  // The library shows it under its new category.
  await page.goto(`${BASE}/?category=education`);
  assert.ok(await page.isVisible("text=Edited Title"));
  // An empty title is refused before it is sent.
  await page.goto(`${BASE}/manage?q=edited`);
  await page.locator(".manage-row input[name=title]").fill("   ");
  await page.locator(".manage-row button[type=submit]").click();
  await page.waitForSelector("#manage-status.error");
  assertNoErrors(errors);
  await context.close();
});

test("delete asks first; cancelling keeps the video", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/manage`);
  const item = page.locator(row("Delete Me"));
  await item.locator("button[data-action=delete]").click();
  await page.waitForSelector("#confirm-dialog[open]");
  assert.equal(await page.textContent("#confirm-title"), "Delete “Delete Me”?");
  await page.click("#confirm-cancel");
  await page.waitForSelector("#confirm-dialog", { state: "hidden" });
  assert.ok((await videosByTitle()).has("Delete Me"));
  await item.locator("button[data-action=delete]").click();
  await page.keyboard.press("Escape");
  await page.waitForSelector("#confirm-dialog", { state: "hidden" });
  assert.ok((await videosByTitle()).has("Delete Me"), "Escape cancels too");
  await item.locator("button[data-action=delete]").click();
  await page.click("#confirm-ok");
  await page.waitForSelector(`${row("Delete Me")}`, { state: "detached" });
  assert.equal(await page.textContent("#manage-status"), "Deleted “Delete Me”.");
  assert.ok(!(await videosByTitle()).has("Delete Me"));
  const stream = await authFetch(`${BASE}/api/stream/Delete_Me-e2e04.mp4`);
  assert.equal(stream.status, 404, "its files are gone");
  assertNoErrors(errors);
  await context.close();
});

test("categories: add, rename, delete", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/manage`);
  await page.fill("#new-category", "Bedtime Stories");
  await page.click("#category-create button[type=submit]");
  await page.waitForSelector('[data-slug="bedtime-stories"]');
  assert.equal(await page.textContent("#category-status"), "Added the category “Bedtime Stories”.");
  // The new category is offered for videos at once.
  assert.ok(await page.$('.manage-row select[name=category] option[value="bedtime-stories"]'));
  const category = page.locator('[data-slug="bedtime-stories"]');
  await category.locator("input[name=name]").fill("Sleepy Time");
  await category.locator("button[type=submit]").click();
  await page.waitForSelector('[data-slug="bedtime-stories"] input[value="Sleepy Time"]');
  const categories = await api("/api/categories");
  assert.ok(categories.categories.some((c) => c.slug === "bedtime-stories" && c.name === "Sleepy Time"));
  // Built-in categories cannot be deleted; user ones can, after confirming.
  assert.equal(await page.$('[data-slug="kids"] button[data-action=delete-category]'), null);
  await page.locator('[data-slug="bedtime-stories"] button[data-action=delete-category]').click();
  await page.waitForSelector("#confirm-dialog[open]");
  await page.click("#confirm-ok");
  await page.waitForSelector('[data-slug="bedtime-stories"]', { state: "detached" });
  // A duplicate name is reported with the server's message.
  await page.fill("#new-category", "Kids");
  await page.click("#category-create button[type=submit]");
  await page.waitForSelector("#category-status.error");
  assert.match(await page.textContent("#category-status"), /already exists/);
  assertNoErrors(errors, [/409/]);
  await context.close();
});

test("library folder: a dropped-in video is added and the scan report says what was left alone", async () => {
  assert.ok(LIBRARY_DIR && MEDIA_DIR, "scripts/e2e sets E2E_LIBRARY_DIR and E2E_MEDIA_DIR");
  const video = join(LIBRARY_DIR, "Dropped_In_Folder.mp4");
  const notes = join(LIBRARY_DIR, "shopping-list.txt");
  copyFileSync(join(MEDIA_DIR, "clip.mp4"), video);
  writeFileSync(notes, "milk, bread\n");
  // Copied long ago: nothing to wait for.
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(video, old, old);
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/manage`);
  await page.waitForSelector("#scan-summary:not(:empty)");
  await page.click("#scan-now");
  await page.waitForSelector("#scan-status.ok", { timeout: 60_000 });
  assert.match(await page.textContent("#scan-summary"), /^Last scan .* \((on request|after the folder changed)\): /);
  const skipped = await page.textContent("#scan-skipped");
  assert.match(skipped, /shopping-list\.txt — not a video file/);
  const added = (await videosByTitle()).get("Dropped In Folder");
  assert.ok(added, "the dropped-in video is in the catalogue");
  await page.goto(`${BASE}/manage?q=dropped`);
  assert.ok(await page.isVisible(row("Dropped In Folder")));
  assertNoErrors(errors);
  await context.close();
  // Leave the library as the other tests expect it.
  await api(`/api/videos/${encodeURIComponent(added.id)}`, { method: "DELETE" });
  rmSync(notes);
});
