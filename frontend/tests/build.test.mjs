// Builds the production web UI with frontend/build.sh (esbuild from node_modules, brotli and
// gzip from the system) and checks the result: fingerprints, precompressed copies that
// decompress to the original, a complete manifest, reproducibility and the size budget.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { brotliDecompressSync, gunzipSync } from "node:zlib";

/** JS + CSS of the first page, compressed, must stay under this (the budget). */
const BUDGET_BYTES = 50 * 1024;
const root = fileURLToPath(new URL("../../", import.meta.url));
const script = join(root, "frontend/build.sh");
const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` };
const outputs = [];

function build() {
  const out = mkdtempSync(join(tmpdir(), "sofathek-web-"));
  outputs.push(out);
  try {
    execFileSync("bash", [script, out], { env, stdio: "pipe" });
  } catch (error) {
    assert.fail(`frontend/build.sh failed (needs esbuild from 'npm ci', brotli and gzip): ${error.stderr || error}`);
  }
  return out;
}

after(() => {
  for (const out of outputs) rmSync(out, { recursive: true, force: true });
});

const first = build();
const manifest = JSON.parse(readFileSync(join(first, "manifest.json"), "utf8"));

test("the manifest maps every logical asset to a fingerprinted file", () => {
  assert.deepEqual(Object.keys(manifest).sort(), ["app.css", "app.js", "icon.svg", "livereload.js", "theme-init.js"]);
  for (const [logical, file] of Object.entries(manifest)) {
    const base = logical.replace(/\.[^.]+$/, "");
    const ext = logical.split(".").pop();
    assert.match(file, new RegExp(`^${base}-[0-9a-f]{12}\\.${ext}$`), logical);
    assert.ok(statSync(join(first, "assets", file)).size > 0, file);
  }
});

test("precompressed copies decompress to the same bytes", () => {
  for (const file of Object.values(manifest)) {
    const plain = readFileSync(join(first, "assets", file));
    assert.deepEqual(brotliDecompressSync(readFileSync(join(first, "assets", `${file}.br`))), plain, `${file}.br`);
    assert.deepEqual(gunzipSync(readFileSync(join(first, "assets", `${file}.gz`))), plain, `${file}.gz`);
  }
});

test("templates are copied unchanged", () => {
  for (const name of readdirSync(join(root, "frontend/templates"))) {
    assert.equal(readFileSync(join(first, "templates", name), "utf8"), readFileSync(join(root, "frontend/templates", name), "utf8"), name);
  }
});

test("the bundle has no module imports left and no npm code", () => {
  const js = readFileSync(join(first, "assets", manifest["app.js"]), "utf8");
  assert.doesNotMatch(js, /\bimport\s*[{*"']|from\s*["']\.\//, "unbundled import");
  assert.doesNotMatch(js, /node_modules/);
});

test("the same sources give the same files", () => {
  const second = build();
  assert.deepEqual(JSON.parse(readFileSync(join(second, "manifest.json"), "utf8")), manifest);
  for (const file of readdirSync(join(first, "assets"))) {
    assert.deepEqual(readFileSync(join(second, "assets", file)), readFileSync(join(first, "assets", file)), file);
  }
});

test(`first-page JS + CSS stay under ${BUDGET_BYTES / 1024} KB compressed`, () => {
  const firstPage = ["app.js", "app.css", "theme-init.js"].map((logical) => manifest[logical]);
  for (const suffix of ["br", "gz"]) {
    const total = firstPage.reduce((sum, file) => sum + statSync(join(first, "assets", `${file}.${suffix}`)).size, 0);
    console.log(`first-page JS + CSS (${suffix}): ${total} bytes of ${BUDGET_BYTES}`);
    assert.ok(total < BUDGET_BYTES, `${suffix}: ${total} bytes`);
  }
});
