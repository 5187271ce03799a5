// The pure helpers of the manage page's Sources and To approve panels (assets/sources.js): the
// add form's request body, the one-line status and settings of a source, an entry's details, which
// live job events refresh the panels, and the queue's "from <source>".
import assert from "node:assert/strict";
import { test } from "node:test";

import { jobView } from "../assets/jobs.js";
import { entryDetails, relativeTime, sourceBody, sourceJobChanged, sourceSettings, sourceStatus } from "../assets/sources.js";

const form = (overrides = {}) => ({
  url: " https://example.com/feed.xml ",
  name: "",
  category: "",
  approval: "review",
  interval: "24",
  start: "latest",
  latest: "3",
  after: "",
  maxPerCheck: "5",
  include: "",
  exclude: "",
  maxDuration: "",
  ...overrides,
});

test("the add form becomes a body without empty fields, numbers as numbers, one start point", () => {
  assert.deepEqual(sourceBody(form()), {
    url: "https://example.com/feed.xml",
    approval: "review",
    intervalHours: 24,
    startLatest: 3,
    maxPerCheck: 5,
  });
  assert.deepEqual(
    sourceBody(
      form({
        name: " Science Club ",
        category: "kids",
        approval: "auto",
        start: "after",
        after: "2026-11-01",
        include: " magnet, water ",
        exclude: "live",
        maxDuration: "30",
      }),
    ),
    {
      url: "https://example.com/feed.xml",
      name: "Science Club",
      category: "kids",
      approval: "auto",
      intervalHours: 24,
      startAfter: "2026-11-01",
      maxPerCheck: 5,
      include: "magnet, water",
      exclude: "live",
      maxDurationMinutes: 30,
    },
  );
  // A date start point without a date falls back to the latest N; junk numbers are left out
  // (the server's defaults apply).
  const body = sourceBody(form({ start: "after", after: "", latest: "x", maxPerCheck: "-1", maxDuration: "1.5" }));
  assert.equal(body.startAfter, undefined);
  assert.equal(body.startLatest, undefined);
  assert.equal(body.maxPerCheck, undefined);
  assert.equal(body.maxDurationMinutes, undefined);
});

test("times relative to now", () => {
  const now = Date.parse("2026-12-05T12:00:00Z");
  assert.equal(relativeTime("2026-12-05T11:55:00Z", now), "5 min ago");
  assert.equal(relativeTime("2026-12-06T11:00:00Z", now), "in 23 h");
  assert.equal(relativeTime("2026-12-08T12:00:00Z", now), "in 3 days");
  assert.equal(relativeTime("2026-12-05T11:59:30Z", now), "just now");
  assert.equal(relativeTime("not a time", now), "");
});

const source = (overrides = {}) => ({
  id: "s1",
  url: "https://example.com/feed.xml",
  name: "Science Club",
  category: "kids",
  intervalHours: 24,
  startAfter: null,
  startLatest: 3,
  maxPerCheck: 5,
  include: "",
  exclude: "",
  maxDurationMinutes: null,
  approval: "review",
  enabled: true,
  lastCheckAt: "2026-12-05T11:55:00Z",
  lastError: null,
  failures: 0,
  nextCheckAt: "2026-12-06T11:00:00Z",
  checking: false,
  counts: { queued: 2, pending: 1, rejected: 0, skipped: 4 },
  ...overrides,
});

test("a source's checks in one line", () => {
  const now = Date.parse("2026-12-05T12:00:00Z");
  assert.equal(sourceStatus(source(), now), "Checked 5 min ago · next check in 23 h");
  assert.equal(sourceStatus(source({ checking: true }), now), "Checking now…");
  assert.equal(sourceStatus(source({ lastCheckAt: null }), now), "Not checked yet · next check in 23 h");
  assert.equal(
    sourceStatus(
      source({ lastError: { code: "NETWORK_ERROR", message: "The site could not be reached." }, failures: 3, nextCheckAt: "2026-12-05T16:00:00Z" }),
      now,
    ),
    "Last check failed (3 times in a row): The site could not be reached. · trying again in 4 h",
  );
  assert.equal(sourceStatus(source({ enabled: false, nextCheckAt: null }), now), "Checked 5 min ago · paused");
});

test("a source's settings in words", () => {
  assert.equal(
    sourceSettings(source(), { kids: "Kids" }),
    "Daily · asks first · Kids · 2 videos downloaded · 1 waiting for approval",
  );
  assert.equal(
    sourceSettings(source({ intervalHours: 6, approval: "auto", category: null, counts: { queued: 1, pending: 0, rejected: 0, skipped: 0 } }), {}),
    "Every 6 hours · downloads automatically · 1 video downloaded",
  );
  assert.match(sourceSettings(source({ intervalHours: 168 }), {}), /^Weekly/);
});

test("an entry's details", () => {
  const entry = {
    id: 1,
    sourceId: "s1",
    sourceName: "Science Club",
    title: "Magnets",
    url: "https://example.com/1.mp4",
    duration: 125,
    publishedAt: null,
    thumbnail: null,
  };
  assert.equal(entryDetails(entry), "Science Club · 2:05");
  assert.match(entryDetails({ ...entry, duration: null, publishedAt: "2026-11-03T10:00:00Z" }), /^Science Club · published .*2026/);
});

test("live job events refresh the panels only when a source's job appears or changes state", () => {
  const seen = new Map();
  const job = (state, progress = 0, source = { id: "s1", name: "Science Club" }) => ({ job: { id: "j1", state, progress, source } });
  assert.equal(sourceJobChanged(seen, job("queued")), true, "a new job");
  assert.equal(sourceJobChanged(seen, job("queued")), false);
  assert.equal(sourceJobChanged(seen, job("running", 10)), true);
  assert.equal(sourceJobChanged(seen, job("running", 50)), false, "progress alone");
  assert.equal(sourceJobChanged(seen, job("completed", 100)), true);
  assert.equal(sourceJobChanged(seen, { job: { id: "j2", state: "queued", source: null } }), false, "not from a source");
  assert.equal(sourceJobChanged(seen, null), false);
  assert.equal(sourceJobChanged(seen, "junk"), false);
});

test("the queue says which source a job came from", () => {
  const job = { id: "j1", kind: "url", state: "queued", stage: null, progress: 0, title: "Magnets", url: "https://example.com/1.mp4" };
  assert.equal(jobView({ ...job, source: { id: "s1", name: "Science Club" } }).details, "Waiting for its turn · from Science Club");
  assert.equal(jobView({ ...job, source: null }).details, "Waiting for its turn");
});
