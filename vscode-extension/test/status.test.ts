import { test } from "node:test";
import assert from "node:assert/strict";
import { completionView, statusView } from "../src/logic/status";

test("ready shows tokens per second when known", () => {
  assert.equal(statusView("ready", "", 38.44).text, "$(check) ChMOCoder (38.4 tok/s)");
  assert.equal(statusView("ready").text, "$(check) ChMOCoder");
});

test("every state has text and a tooltip", () => {
  for (const state of ["starting", "loading", "ready", "generating", "waiting", "error", "stopped"] as const) {
    const view = statusView(state, "detail");
    assert.ok(view.text.includes("ChMOCoder"));
    assert.ok(view.tooltip.length > 0);
  }
  assert.match(statusView("error", "model file missing").tooltip, /model file missing/);
  const busy = statusView("waiting", "model server busy (503): asking again in 1.0 s");
  assert.match(busy.text, /server busy/);
  assert.match(busy.tooltip, /asking again in 1.0 s/);
});

test("the completion toggle says what a click does", () => {
  assert.equal(completionView(true).text, "$(sparkle) on");
  assert.equal(completionView(false).text, "$(sparkle) off");
  assert.match(completionView(true).tooltip, /turn it off/);
  assert.match(completionView(false).tooltip, /only when asked/);
});
