// WCAG AA contrast of the theme colours in app.css: 4.5:1 for text, 3:1 for focus rings and
// control boundaries, in the dark and the light theme; the "system" light block must equal the
// light theme.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const css = readFileSync(new URL("../assets/app.css", import.meta.url), "utf8");

/** The custom properties of the first block whose selector ends with `selector {`. */
function block(selector) {
  const start = css.indexOf(`${selector} {`);
  assert.ok(start >= 0, `no block for ${selector}`);
  const body = css.slice(css.indexOf("{", start) + 1, css.indexOf("}", start));
  return Object.fromEntries([...body.matchAll(/--([a-z0-9-]+):\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]));
}

function luminance(hex) {
  const match = /^#([0-9a-f]{6})$/i.exec(hex);
  assert.ok(match, `not a #rrggbb colour: ${hex}`);
  const channels = [0, 2, 4].map((i) => parseInt(match[1].slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const TEXT = 4.5;
const UI = 3;
const PAIRS = [
  ["text", "bg", TEXT],
  ["text", "surface", TEXT],
  ["text", "surface-2", TEXT],
  ["muted", "bg", TEXT],
  ["muted", "surface", TEXT],
  ["muted", "surface-2", TEXT],
  ["link", "bg", TEXT],
  ["link", "surface", TEXT],
  ["accent-text", "accent", TEXT],
  ["danger", "bg", TEXT],
  ["danger", "surface", TEXT],
  ["text", "danger-bg", TEXT],
  ["ok", "bg", TEXT],
  ["ok", "surface", TEXT],
  ["banner-text", "banner-bg", TEXT],
  ["focus", "bg", UI],
  ["focus", "surface", UI],
  ["border", "bg", UI],
  ["border", "surface", UI],
  ["accent", "surface", UI],
];

for (const [name, selector] of [
  ["dark", ':root[data-theme="dark"]'],
  ["light", ':root[data-theme="light"]'],
]) {
  test(`${name} theme meets WCAG AA`, () => {
    const colours = block(selector);
    const failures = PAIRS.map(([fg, bg, min]) => [fg, bg, min, contrast(colours[fg], colours[bg])])
      .filter(([, , min, ratio]) => ratio < min)
      .map(([fg, bg, min, ratio]) => `${fg} on ${bg}: ${ratio.toFixed(2)} < ${min}`);
    assert.deepEqual(failures, []);
  });
}

test("the system theme's light colours are the light theme's", () => {
  assert.deepEqual(block(':root[data-theme="system"]'), block(':root[data-theme="light"]'));
});

test("the contrast formula matches WCAG's reference values", () => {
  assert.equal(contrast("#000000", "#ffffff").toFixed(1), "21.0");
  assert.equal(contrast("#767676", "#ffffff").toFixed(2), "4.54");
});
