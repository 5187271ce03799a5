// The templates obey the Content-Security-Policy (script-src 'self', style-src 'self'): no
// inline scripts, event handlers or style attributes; every asset they name exists.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

const dir = new URL("../templates/", import.meta.url);
const templates = readdirSync(dir).filter((name) => name.endsWith(".html"));

test("there are templates for every page", () => {
  for (const name of ["base.html", "library.html", "watch.html", "add.html", "manage.html", "error.html"]) {
    assert.ok(templates.includes(name), name);
  }
});

for (const name of templates) {
  test(`${name}: nothing inline that the CSP would block`, () => {
    const html = readFileSync(new URL(name, dir), "utf8");
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
    for (const attributes of scripts) assert.match(attributes, /\bsrc=/, `inline <script> in ${name}`);
    assert.doesNotMatch(html, /<style\b/i, "inline <style>");
    assert.doesNotMatch(html, /\sstyle\s*=/i, "style attribute");
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, "event handler attribute");
    assert.doesNotMatch(html, /javascript:/i, "javascript: URL");
  });

  test(`${name}: assets it names exist`, () => {
    const html = readFileSync(new URL(name, dir), "utf8");
    for (const [, asset] of html.matchAll(/asset\('([^']+)'\)/g)) {
      assert.ok(existsSync(new URL(`../assets/${asset}`, import.meta.url)), asset);
    }
  });
}

test("form controls have labels", () => {
  for (const name of templates) {
    const html = readFileSync(new URL(name, dir), "utf8");
    const ids = new Set([...html.matchAll(/<label[^>]*\bfor="([^"]+)"/g)].map((m) => m[1]));
    for (const [tag, attributes] of html.matchAll(/<(?:input|select|textarea)\b([^>]*)>/g)) {
      if (/type="(hidden|checkbox|submit)"/.test(attributes)) continue;
      const id = /\bid="([^"]+)"/.exec(attributes)?.[1];
      assert.ok(id && ids.has(id), `${name}: unlabelled control ${tag}`);
    }
  }
});
