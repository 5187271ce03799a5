import assert from "node:assert/strict";
import { test } from "node:test";

import { countsLine, jobView, sortJobs, upsertJob, validateUrl } from "../assets/jobs.js";

const job = (overrides = {}) => ({
  id: "j1",
  kind: "url",
  state: "running",
  stage: "fetching",
  progress: 42.3,
  bytes: 1_048_576,
  totalBytes: 4_194_304,
  speed: 524_288,
  eta: 6,
  error: null,
  attempts: 1,
  url: "https://example.com/v.mp4",
  title: "Cats",
  category: null,
  audio: false,
  createdAt: "2024-01-01T00:00:01.000Z",
  updatedAt: "2024-01-01T00:00:02.000Z",
  videoId: null,
  ...overrides,
});

test("a running download shows stage, percent, bytes, speed and time left", () => {
  const view = jobView(job());
  assert.equal(view.title, "Cats");
  assert.equal(view.url, "https://example.com/v.mp4");
  assert.equal(view.stateLabel, "Downloading");
  assert.equal(view.progress, 42.3);
  assert.equal(view.details, "Downloading · 42% · 1.0 MB of 4.0 MB · 512.0 KB/s · 6 s left");
  assert.equal(view.canCancel, true);
  assert.equal(view.canRetry, false);
  assert.equal(view.watchHref, null);
});

test("every stage has a label", () => {
  const labels = ["fetching", "probing", "converting", "thumbnailing", "publishing"].map(
    (stage) => jobView(job({ stage, bytes: null, speed: null, eta: null })).stateLabel,
  );
  assert.deepEqual(labels, ["Downloading", "Checking the video", "Converting", "Making a thumbnail", "Adding to the library"]);
});

test("failed jobs show the message and the suggestion, and can be retried", () => {
  const view = jobView(
    job({
      state: "failed",
      stage: null,
      error: { code: "VIDEO_UNAVAILABLE", message: "This video is not available.", suggestion: "Please check the video URL." },
    }),
  );
  assert.equal(view.stateLabel, "Failed");
  assert.deepEqual(view.error, { message: "This video is not available.", suggestion: "Please check the video URL." });
  assert.equal(view.progress, null);
  assert.equal(view.canRetry, true);
  assert.equal(view.canCancel, false);
});

test("completed jobs link to the video; untitled jobs show their URL or file", () => {
  const done = jobView(job({ state: "completed", stage: null, videoId: "a b" }));
  assert.equal(done.watchHref, "/watch/a%20b");
  assert.equal(done.details, "Added to the library");
  const untitled = jobView(job({ title: null }));
  assert.equal(untitled.title, "https://example.com/v.mp4");
  assert.equal(untitled.url, null);
  assert.equal(jobView(job({ kind: "upload", title: null, url: null })).title, "Uploaded file");
  assert.equal(jobView(job({ state: "queued", stage: null })).canCancel, true);
  assert.equal(jobView(job({ state: "cancelled", stage: null })).canRetry, true);
  assert.equal(jobView(job({ progress: 250 })).progress, 100);
});

test("updates replace jobs in place and never go back in time", () => {
  let jobs = [];
  jobs = upsertJob(jobs, job({ id: "a", createdAt: "2024-01-01T00:00:01.000Z" }));
  jobs = upsertJob(jobs, job({ id: "b", createdAt: "2024-01-01T00:00:05.000Z" }));
  assert.deepEqual(jobs.map((j) => j.id), ["b", "a"]);
  jobs = upsertJob(jobs, job({ id: "a", progress: 90, updatedAt: "2024-01-01T00:00:09.000Z" }));
  assert.equal(jobs[1].progress, 90);
  const stale = upsertJob(jobs, job({ id: "a", progress: 10, updatedAt: "2024-01-01T00:00:03.000Z" }));
  assert.equal(stale[1].progress, 90);
  assert.deepEqual(sortJobs([job({ id: "x", createdAt: "1" }), job({ id: "y", createdAt: "2" })]).map((j) => j.id), ["y", "x"]);
});

test("the counts line follows the original", () => {
  const jobs = [job({ state: "running" }), job({ state: "completed" }), job({ state: "failed" })];
  assert.equal(countsLine(jobs), "3 total • 0 queued • 1 running • 1 completed • 1 failed");
  assert.equal(countsLine([]), "0 total • 0 queued • 0 running • 0 completed");
});

test("links are checked for typing mistakes only", () => {
  const check = (input, ok) => assert.equal(validateUrl(input) === null, ok, input);
  check("https://www.youtube.com/watch?v=abc&t=30s", true);
  check("http://127.0.0.1:8000/clip.mp4", true);
  check("https://vimeo.com/123", true);
  check("", false);
  check("not-a-url", false);
  check("ftp://example.com/x.mp4", false);
  check("javascript:alert(1)", false);
  check(`https://example.com/${"a".repeat(2000)}`, false);
  check("https://example.com/a\nb", false);
});
