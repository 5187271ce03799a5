import assert from "node:assert/strict";
import { test } from "node:test";

import { KEY_DIRECTIONS, pickTarget } from "../assets/nav.js";

/** A 100×60 box whose top-left corner is at column `c`, row `r` of a grid with gaps. */
const cell = (c, r) => ({ left: c * 120, top: r * 80, right: c * 120 + 100, bottom: r * 80 + 60 });

test("arrow keys map to directions", () => {
  assert.equal(KEY_DIRECTIONS.ArrowLeft, "left");
  assert.equal(KEY_DIRECTIONS.ArrowDown, "down");
  assert.equal(KEY_DIRECTIONS.Enter, undefined);
});

test("moves to the neighbour in a grid", () => {
  const boxes = [cell(0, 0), cell(1, 0), cell(2, 0), cell(0, 1), cell(1, 1)];
  const from = cell(1, 0);
  const others = boxes.filter((b) => b !== from);
  const check = (direction, expected) => assert.deepEqual(others[pickTarget(from, others, direction)], expected, direction);
  check("left", cell(0, 0));
  check("right", cell(2, 0));
  check("down", cell(1, 1));
  assert.equal(pickTarget(from, others, "up"), -1);
});

test("down from a column with nothing below picks the nearest in the next row", () => {
  const from = cell(3, 0);
  const others = [cell(0, 1), cell(1, 1), cell(2, 2)];
  assert.equal(pickTarget(from, others, "down"), 1);
});

test("left and right stay on the line", () => {
  const from = cell(2, 0);
  // Nothing else on row 0: the card below-right is not a "right" neighbour.
  assert.equal(pickTarget(from, [cell(3, 1), cell(0, 1)], "right"), -1);
  // A wide search field on the same line counts.
  const field = { left: 400, top: 10, right: 900, bottom: 50 };
  assert.equal(pickTarget(from, [field], "right"), 0);
});

test("rows scrolled sideways: down goes to the card under the focus, not the row's first", () => {
  const from = { left: 700, top: 0, right: 900, bottom: 110 };
  const row = [0, 1, 2, 3, 4].map((i) => ({ left: i * 220, top: 200, right: i * 220 + 200, bottom: 310 }));
  assert.equal(pickTarget(from, row, "down"), 3);
});
