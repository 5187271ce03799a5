// The server-backed watch progress store: the newer of the page's server position and this
// browser's mirror wins; reports go to the server; "start over" and "finished" are remembered.
import assert from "node:assert/strict";
import { test } from "node:test";

import { localProgressStore, renderedPosition, resumePoint, serverProgressStore } from "../assets/resume.js";

/** An in-memory Storage. */
function memoryStorage() {
  /** @type {Map<string, string>} */
  const items = new Map();
  return /** @type {Storage} */ ({
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, String(value)),
    removeItem: (key) => void items.delete(key),
    clear: () => items.clear(),
    key: () => null,
    length: 0,
  });
}

function store(fromServer, clock = { now: 1000 }) {
  const sent = [];
  const local = localProgressStore(memoryStorage(), () => clock.now, "sofathek-progress-7");
  return { sent, clock, progress: serverProgressStore(fromServer, local, (id, report) => sent.push([id, report])) };
}

test("rendered positions", () => {
  assert.deepEqual(renderedPosition("42.5", "2024-01-01T00:00:00.000Z"), { t: 42.5, d: 0, at: Date.parse("2024-01-01T00:00:00.000Z") });
  assert.equal(renderedPosition(undefined, undefined), null);
  assert.equal(renderedPosition("x", "2024-01-01T00:00:00.000Z"), null);
  assert.equal(renderedPosition("1", "not a date"), null);
});

test("the server's position is used until this browser reports a newer one", () => {
  const { progress, sent, clock } = store({ t: 30, d: 0, at: 500 });
  assert.equal(progress.load("v")?.t, 30);
  clock.now = 2000;
  progress.save("v", 12.34, 100);
  assert.deepEqual(sent, [["v", { position: 12.3, duration: 100 }]]);
  assert.equal(progress.load("v")?.t, 12.3);
  // A position the server has from another device, newer than ours, wins.
  const newer = store({ t: 50, d: 0, at: 5000 });
  newer.progress.save("v", 10, 100);
  assert.equal(newer.progress.load("v")?.t, 50);
});

test("start over and finished are reported and resume nothing", () => {
  const { progress, sent, clock } = store({ t: 30, d: 0, at: 500 });
  clock.now = 2000;
  progress.clear("v");
  assert.deepEqual(sent.at(-1), ["v", { position: 0 }]);
  assert.equal(resumePoint(progress.load("v"), 100), null);
  progress.finish("v", 100);
  assert.deepEqual(sent.at(-1), ["v", { position: 100, duration: 100, ended: true }]);
  assert.equal(resumePoint(progress.load("v"), 100), null);
  progress.finish("w", NaN);
  assert.deepEqual(sent.at(-1), ["w", { position: 0, duration: undefined, ended: true }]);
});
