import assert from "node:assert/strict";
import { test } from "node:test";

import { formatBytes, formatDuration, formatEta, formatSpeed, plural } from "../assets/format.js";

test("durations match the server's labels", () => {
  const check = (input, expected) => assert.equal(formatDuration(input), expected, String(input));
  check(undefined, "");
  check(null, "");
  check(-1, "");
  check(Number.NaN, "");
  check(0, "0:00");
  check(4.6, "0:05");
  check(754, "12:34");
  check(3723, "1:02:03");
});

test("sizes use binary multiples with one decimal", () => {
  const check = (input, expected) => assert.equal(formatBytes(input), expected, String(input));
  check(0, "0 B");
  check(1023, "1023 B");
  check(1536, "1.5 KB");
  check(12_900_000, "12.3 MB");
  check(1_288_490_189, "1.2 GB");
  check(-5, "");
  check(undefined, "");
});

test("speeds and remaining time", () => {
  assert.equal(formatSpeed(1_500_000), "1.4 MB/s");
  assert.equal(formatSpeed(null), "");
  assert.equal(formatEta(5), "5 s");
  assert.equal(formatEta(125), "2 min 05 s");
  assert.equal(formatEta(3725), "1 h 02 min");
  assert.equal(formatEta(Infinity), "");
  assert.equal(plural(1, "video", "videos"), "1 video");
  assert.equal(plural(0, "video", "videos"), "0 videos");
});
