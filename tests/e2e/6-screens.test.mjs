// Screenshots of every page at phone (390×844) and desktop/TV (1920×1080) sizes, in the dark
// default and the light theme, saved to artifacts/screenshots for review (not committed).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { assertNoErrors, BASE, DESKTOP, launch, openPage, PHONE, screenshot } from "./helpers.mjs";

/** @type {import("playwright-core").Browser} */
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PAGES = [
  ["library", "/"],
  ["library-channels", "/?view=channel"],
  ["library-search", "/?q=rainbow"],
  ["library-category", "/?category=kids"],
  ["watch", "/watch/Rainbow_Bars-e2e01"],
  ["add", "/add"],
  ["manage", "/manage"],
  ["not-found", "/watch/no-such-video"],
];

for (const [label, viewport] of [
  ["phone", PHONE],
  ["desktop", DESKTOP],
]) {
  test(`every page at ${label} size`, async () => {
    for (const theme of ["dark", "light"]) {
      const { page, errors, context } = await openPage(browser, { viewport });
      await page.addInitScript((value) => window.localStorage.setItem("sofathek-theme", value), theme);
      for (const [name, path] of PAGES) {
        await page.goto(`${BASE}${path}`);
        await page.waitForLoadState("networkidle").catch(() => {});
        // Thumbnails are lazy: scroll through so they load before the picture is taken.
        await page.evaluate(async () => {
          for (const image of document.querySelectorAll("img")) image.loading = "eager";
          await Promise.all(Array.from(document.images).map((image) => (image.complete ? null : new Promise((r) => image.addEventListener("load", r, { once: true }) || setTimeout(r, 2000)))));
        });
        assert.equal(await page.getAttribute("html", "data-theme"), theme);
        await screenshot(page, `${name}-${theme}`);
      }
      assertNoErrors(errors, [/404/]);
      await context.close();
    }
  });
}
