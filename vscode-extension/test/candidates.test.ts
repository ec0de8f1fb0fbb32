import { test } from "node:test";
import assert from "node:assert/strict";
import { notFoundMessage, probeArgs, serverCandidates } from "../src/logic/candidates";

test("candidates come in the documented order", () => {
  const found = serverCandidates({ serverPath: "/opt/chmocoder", python: "/usr/bin/python3", pythonExtensionInterpreter: "/venv/bin/python" });
  assert.deepEqual(found.map((c) => [c.command, c.args]), [
    ["/opt/chmocoder", ["serve"]],
    ["/usr/bin/python3", ["-m", "chmocoder", "serve"]],
    ["/venv/bin/python", ["-m", "chmocoder", "serve"]],
    ["chmocoder", ["serve"]],
  ]);
});

test("empty settings leave only PATH", () => {
  const found = serverCandidates({ serverPath: " ", python: "", pythonExtensionInterpreter: undefined });
  assert.deepEqual(found.map((c) => c.label), ["chmocoder on PATH"]);
});

test("the not-found message says what was tried and how to install", () => {
  const message = notFoundMessage(serverCandidates({ serverPath: "", python: "py3", pythonExtensionInterpreter: undefined }));
  assert.match(message, /Tried: chmocoder.python \(py3\); chmocoder on PATH\./);
  assert.match(message, /pip install 'chmocoder\[llama-cpp,default-model\]'/);
});

test("probing uses --version", () => {
  assert.deepEqual(probeArgs({ label: "", command: "py", args: ["-m", "chmocoder", "serve"] }), ["-m", "chmocoder", "--version"]);
  assert.deepEqual(probeArgs({ label: "", command: "chmocoder", args: ["serve"] }), ["--version"]);
});
