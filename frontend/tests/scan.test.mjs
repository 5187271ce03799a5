import assert from "node:assert/strict";
import { test } from "node:test";

import { scanSummary } from "../assets/scan.js";

const report = (overrides = {}) => ({
  trigger: "api",
  startedAt: "2026-12-05T10:00:00.000Z",
  tookMs: 12,
  files: 5,
  known: 2,
  adopted: [{ file: "Our_Holiday.mp4", id: "Our_Holiday", title: "Our Holiday" }],
  queued: [],
  skipped: [
    { file: "notes.txt", reason: "not a video file" },
    { file: "Film.mp4.part", reason: "still being written (a partial download or copy)" },
  ],
  settling: 0,
  ...overrides,
});

test("a scan report in one line", () => {
  const at = () => "10:00";
  assert.equal(scanSummary(null, at), "No scan has run yet.");
  assert.equal(
    scanSummary(report(), at),
    "Last scan 10:00 (on request): 1 video added, 0 files queued for conversion, 2 files left alone.",
  );
  assert.equal(
    scanSummary(report({ trigger: "startup", adopted: [], queued: [{ file: "a.mkv", job: "j" }], skipped: [], settling: 2 }), at),
    "Last scan 10:00 (at start-up): 0 videos added, 1 file queued for conversion, 0 files left alone. 2 files are still being copied.",
  );
  assert.match(scanSummary(report({ trigger: "something-new" }), at), /\(something-new\)/);
});
