import assert from "node:assert/strict";
import { test } from "node:test";

import { isFinished, localProgressStore, MAX_SAVED, mediaErrorMessage, prune, resumePoint } from "../assets/resume.js";

test("resume only from the middle of a video", () => {
  const check = (saved, duration, expected) => assert.equal(resumePoint(saved, duration), expected, JSON.stringify(saved));
  check(null, 100, null);
  check({ t: 1, d: 100, at: 0 }, 100, null);
  check({ t: 42.5, d: 100, at: 0 }, 100, 42.5);
  check({ t: 98, d: 100, at: 0 }, 100, null);
  // Duration not known yet: the saved one decides.
  check({ t: 98, d: 100, at: 0 }, Number.NaN, null);
  check({ t: 50, d: 0, at: 0 }, Number.NaN, 50);
  assert.equal(isFinished(97.5, 100), true);
  assert.equal(isFinished(50, 100), false);
  assert.equal(isFinished(50, Number.NaN), false);
});

test("every MediaError code has its own message", () => {
  const messages = [1, 2, 3, 4, undefined].map(mediaErrorMessage);
  assert.equal(new Set(messages).size, 5);
  assert.match(mediaErrorMessage(4), /not supported/);
  assert.match(mediaErrorMessage(2), /network/i);
});

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
}

test("positions are saved, loaded and cleared per video", () => {
  const storage = new MemoryStorage();
  let clock = 1000;
  const store = localProgressStore(storage, () => clock);
  assert.equal(store.load("a"), null);
  store.save("a", 12.345, 60);
  clock = 2000;
  store.save("b", 5, Number.NaN);
  assert.deepEqual(store.load("a"), { t: 12.3, d: 60, at: 1000 });
  assert.deepEqual(store.load("b"), { t: 5, d: 0, at: 2000 });
  store.clear("a");
  assert.equal(store.load("a"), null);
  storage.setItem("sofathek-progress", "{not json");
  assert.equal(store.load("b"), null);
});

test("only the newest positions are kept", () => {
  const all = {};
  for (let i = 0; i < MAX_SAVED + 5; i += 1) all[`v${i}`] = { t: 10, d: 20, at: i };
  const kept = prune(all);
  assert.equal(Object.keys(kept).length, MAX_SAVED);
  assert.equal(kept.v0, undefined);
  assert.ok(kept[`v${MAX_SAVED + 4}`]);
});
