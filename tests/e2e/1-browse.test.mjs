// Browsing: rows per category and channel, instant search, sort, the no-JavaScript path,
// keyboard/TV-remote navigation, theme persistence, the connection banner, narrow phones.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { assertNoErrors, authFetch, BASE, DESKTOP, launch, openPage, PHONE } from "./helpers.mjs";

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

test("the library shows a row per category with counts, sizes and lazy thumbnails", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(BASE);
  assert.match(await page.textContent("#library-stats"), /^6 videos available · [\d.]+ MB$/);
  const rows = await page.$$eval(".row h2", (nodes) => nodes.map((n) => n.firstChild?.textContent?.trim()));
  assert.deepEqual(rows, ["Kids", "Music", "Uncategorised"]);
  const kids = await cardTitles(page, 'section[aria-labelledby="group-c-kids"]');
  assert.deepEqual(new Set(kids), new Set(["Rainbow Bars", "Counting Song", "Edit Me"]));
  const lazy = await page.$$eval(".thumb img", (images) => images.every((image) => image.loading === "lazy"));
  assert.ok(lazy);
  // A video without a thumbnail shows the placeholder icon.
  assert.ok((await page.$$(".thumb:not(:has(img)) .thumb-icon")).length >= 1);
  assertNoErrors(errors);
  await context.close();
});

test("the channel view groups as the original: alphabetical, Other last", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(BASE);
  await page.click("text=By channel");
  await page.waitForURL(/view=channel/);
  const rows = await page.$$eval(".row h2", (nodes) => nodes.map((n) => n.firstChild?.textContent?.trim()));
  assert.deepEqual(rows, ["Manage Channel", "Music School", "Test Pattern TV", "Other"]);
  await page.click('nav[aria-label="Categories"] >> text=Music');
  await page.waitForURL(/category=music/);
  assert.equal(await page.textContent("#library-heading"), "Music");
  assert.deepEqual(new Set(await cardTitles(page)), new Set(["Delete Me", "Piano Practice"]));
  assertNoErrors(errors);
  await context.close();
});

test("search is instant while typing and works as a plain form", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(BASE);
  const url = page.url();
  await page.fill("#q", "rainb");
  await page.waitForSelector("#results .card-title");
  assert.deepEqual(await cardTitles(page, "#results"), ["Rainbow Bars"]);
  assert.equal(await page.textContent("#library-heading"), "Results for “rainb”");
  assert.match(await page.textContent("#library-stats"), /^1 video available/);
  assert.ok(page.url().includes("q=rainb"), "the address follows the search");
  assert.notEqual(page.url(), url);
  await page.fill("#q", "zzzz-nothing");
  await page.waitForSelector("#empty-state");
  assert.match(await page.textContent("#empty-state"), /No videos found/);
  await page.fill("#q", "");
  await page.waitForSelector(".row");
  // Enter submits the form: a server-rendered result page.
  await page.fill("#q", "piano");
  await page.press("#q", "Enter");
  await page.waitForURL(/q=piano/);
  await page.waitForSelector("#results");
  assert.deepEqual(await cardTitles(page, "#results"), ["Piano Practice"]);
  // Sort changes apply at once.
  await page.goto(`${BASE}/?category=kids`);
  await page.selectOption("#sort", "title");
  await page.waitForURL(/sort=title/);
  assert.deepEqual(await cardTitles(page, "#results"), ["Counting Song", "Edit Me", "Rainbow Bars"]);
  await page.selectOption("#sort", "-title");
  await page.waitForURL(/sort=-title/);
  assert.deepEqual(await cardTitles(page, "#results"), ["Rainbow Bars", "Edit Me", "Counting Song"]);
  assertNoErrors(errors);
  await context.close();
});

test("without JavaScript: browse, search and watch still work", async () => {
  const { page, context } = await openPage(browser, { javaScriptEnabled: false });
  await page.goto(BASE);
  assert.ok((await cardTitles(page)).includes("Rainbow Bars"));
  assert.ok(await page.isVisible("#search-form button[type=submit]"), "the Search button shows without JS");
  await page.fill("#q", "counting");
  await page.click("#search-form button[type=submit]");
  await page.waitForURL(/q=counting/);
  assert.deepEqual(await cardTitles(page, "#results"), ["Counting Song"]);
  await page.click("text=Counting Song");
  await page.waitForURL(/\/watch\//);
  const src = await page.getAttribute("video#player", "src");
  assert.match(src, /^\/api\/stream\/Counting_Song-e2e02\.mp4$/);
  assert.equal(await page.getAttribute("video#player", "controls"), "");
  await context.close();
});

test("arrow keys move through the cards, Enter opens, Escape goes back", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/?category=kids&sort=title`);
  const focused = () => page.evaluate(() => document.activeElement?.querySelector?.(".card-title")?.textContent || document.activeElement?.tagName);
  // Nothing focused yet: the first arrow press lands on the first card.
  await page.keyboard.press("ArrowDown");
  assert.equal(await focused(), "Counting Song");
  await page.keyboard.press("ArrowRight");
  assert.equal(await focused(), "Edit Me");
  await page.keyboard.press("ArrowRight");
  assert.equal(await focused(), "Rainbow Bars");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await focused(), "Edit Me");
  // The focus ring is visible.
  const outline = await page.evaluate(() => getComputedStyle(/** @type {Element} */ (document.activeElement)).outlineStyle);
  assert.equal(outline, "solid");
  // Up leaves the grid for the controls above it.
  await page.keyboard.press("ArrowUp");
  assert.ok((await focused()) !== "Edit Me");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/watch\//);
  await page.keyboard.press("Escape");
  await page.waitForURL((url) => !url.pathname.startsWith("/watch/"));
  assertNoErrors(errors);
  await context.close();
});

test("the theme choice persists across pages and reloads", async () => {
  const { page, errors, context } = await openPage(browser, { colorScheme: "light" });
  await page.goto(BASE);
  assert.equal(await page.getAttribute("html", "data-theme"), "dark", "dark by default, as the original");
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const dark = await background();
  await page.selectOption("#theme-select", "light");
  assert.equal(await page.getAttribute("html", "data-theme"), "light");
  const light = await background();
  assert.notEqual(light, dark);
  await page.goto(`${BASE}/manage`);
  assert.equal(await page.getAttribute("html", "data-theme"), "light");
  assert.equal(await page.inputValue("#theme-select"), "light");
  // "System" follows the operating system (this context prefers light).
  await page.selectOption("#theme-select", "system");
  await page.reload();
  assert.equal(await page.getAttribute("html", "data-theme"), "system");
  assert.equal(await background(), light);
  // The attribute is set before the first paint: the theme script is a blocking head script.
  const headScripts = await page.$$eval("head script:not([type=module])", (nodes) => nodes.map((n) => n.getAttribute("src")));
  assert.equal(headScripts.length, 1);
  assert.match(headScripts[0], /theme-init/);
  assertNoErrors(errors);
  await context.close();
});

test("a banner shows while the server is unreachable, and goes away when it is back", async () => {
  const { page, context } = await openPage(browser);
  await page.route("**/api/health", (route) => route.abort("connectionrefused"));
  await page.goto(BASE);
  await page.waitForSelector("#connection-banner:not([hidden])");
  assert.match(await page.textContent("#connection-banner"), /cannot be reached/);
  await page.unroute("**/api/health");
  await page.click("#connection-retry");
  await page.waitForSelector("#connection-banner", { state: "hidden" });
  // A critical server (503) also shows it; warning does not.
  await page.route("**/api/health", (route) => route.fulfill({ status: 503, contentType: "application/json", body: '{"status":"critical"}' }));
  await page.reload();
  await page.waitForSelector("#connection-banner:not([hidden])");
  await page.route("**/api/health", (route) => route.fulfill({ status: 200, contentType: "application/json", body: '{"status":"warning"}' }));
  await page.click("#connection-retry");
  await page.waitForSelector("#connection-banner", { state: "hidden" });
  await context.close();
});

test("nothing overflows sideways on a 360 px phone, and everything is reachable on a TV", async () => {
  for (const viewport of [{ width: 360, height: 740 }, PHONE, DESKTOP]) {
    const { page, errors, context } = await openPage(browser, { viewport });
    for (const path of ["/", "/?view=channel", "/watch/Rainbow_Bars-e2e01", "/add", "/manage"]) {
      await page.goto(`${BASE}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${path} at ${viewport.width}px overflows by ${overflow}px`);
    }
    assertNoErrors(errors);
    await context.close();
  }
});

test("the library updates without a reload when a video is renamed elsewhere", async () => {
  const { page, errors, context } = await openPage(browser);
  await page.goto(`${BASE}/?category=music&sort=title`);
  await page.waitForSelector("text=Piano Practice");
  // Give the page's event stream a moment to connect.
  await new Promise((resolve) => setTimeout(resolve, 700));
  const response = await authFetch(`${BASE}/api/videos/Piano_Practice-e2e05`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ title: "Piano Practice (live)" }),
  });
  assert.equal(response.status, 200);
  await page.waitForSelector("text=Piano Practice (live)", { timeout: 10_000 });
  await authFetch(`${BASE}/api/videos/Piano_Practice-e2e05`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ title: "Piano Practice" }),
  });
  assertNoErrors(errors);
  await context.close();
});
