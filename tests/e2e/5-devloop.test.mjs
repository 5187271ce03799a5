// The development loop: the unbuilt checkout works in the browser (plain ES modules, no build
// step), and editing a stylesheet or a template reloads the open page within a second.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { assertNoErrors, DEV_URL, DEV_WEB_DIR, launch, openPage } from "./helpers.mjs";

/** @type {import("playwright-core").Browser} */
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Changes a file and returns how long the page took to reload. */
async function reloadAfter(page, change) {
  await page.evaluate(() => {
    /** @type {any} */ (window).__beforeReload = true;
  });
  // Let the live-reload stream connect and the poller take its first look.
  await page.waitForTimeout(600);
  const started = Date.now();
  const navigated = page.waitForEvent("load", { timeout: 5_000 });
  change();
  await navigated;
  const took = Date.now() - started;
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).__beforeReload), undefined, "the page reloaded");
  return took;
}

test("the unbuilt checkout runs in the browser as plain ES modules", { skip: !DEV_URL }, async () => {
  const { page, errors, context } = await openPage(browser, { as: "none" });
  const scripts = [];
  page.on("request", (request) => {
    if (request.resourceType() === "script") scripts.push(new URL(request.url()).pathname);
  });
  await page.goto(DEV_URL);
  await page.waitForLoadState("networkidle");
  assert.ok(scripts.includes("/assets/app.js") && scripts.includes("/assets/nav.js"), scripts.join(" "));
  assert.ok(scripts.includes("/assets/livereload.js"));
  const response = await page.request.get(`${DEV_URL}/assets/app.js`);
  assert.equal(response.headers()["cache-control"], "no-cache");
  await page.selectOption("#theme-select", "light");
  assert.equal(await page.getAttribute("html", "data-theme"), "light");
  assertNoErrors(errors);
  await context.close();
});

test("editing CSS or a template reloads the page in under a second", { skip: !DEV_URL }, async () => {
  const { page, errors, context } = await openPage(browser, { as: "none" });
  await page.goto(DEV_URL);
  const css = join(DEV_WEB_DIR, "assets/app.css");
  const original = readFileSync(css, "utf8");
  const cssTook = await reloadAfter(page, () => writeFileSync(css, `${original}\n.brand-name { text-transform: lowercase; }\n`));
  assert.equal(await page.evaluate(() => getComputedStyle(/** @type {Element} */ (document.querySelector(".brand-name"))).textTransform), "lowercase");
  assert.ok(cssTook < 1000, `CSS reload took ${cssTook} ms`);

  const template = join(DEV_WEB_DIR, "templates/library.html");
  const html = readFileSync(template, "utf8");
  const templateTook = await reloadAfter(page, () => writeFileSync(template, html.replace("{{ heading }}", "{{ heading }} ✎")));
  assert.equal(await page.textContent("#library-heading"), "Video Library ✎");
  assert.ok(templateTook < 1000, `template reload took ${templateTook} ms`);
  console.log(`live reload: CSS ${cssTook} ms, template ${templateTook} ms`);
  writeFileSync(css, original);
  writeFileSync(template, html);
  assertNoErrors(errors);
  await context.close();
});
