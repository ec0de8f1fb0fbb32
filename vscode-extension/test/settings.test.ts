import { test } from "node:test";
import assert from "node:assert/strict";
import manifest from "../package.json";
import { CLIENT_ONLY, serverSettings, settingNames } from "../src/logic/settings";

test("every declared setting but the extension's own is sent, dotted names nested", () => {
  const names = settingNames(manifest);
  assert.ok(names.includes("buildCheck") && names.includes("fix.check") && names.includes("hover.enabled"));
  const sent = serverSettings(names, (name) => (name === "cacheDir" ? "" : `value of ${name}`));
  assert.equal(sent.buildCheck, "value of buildCheck");
  assert.deepEqual(sent.fix, { check: "value of fix.check" });
  assert.equal((sent.hover as Record<string, unknown>).timeoutMs, "value of hover.timeoutMs");
  for (const own of CLIENT_ONLY) {
    assert.ok(names.includes(own) && !(own in sent), own);
  }
  assert.ok(!("cacheDir" in sent)); // empty: the server's default
});

test("settings that choose what runs, where code goes or files are written are restricted", () => {
  // An untrusted workspace's .vscode/settings.json must not pick the server to start, the
  // model file, the model server, the variable whose value is sent as the API key, the cache
  // folder or a command to run: VS Code ignores these there (restrictedConfigurations).
  const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
  const declared = new Set(settingNames(manifest).map((name) => `chmocoder.${name}`));
  for (const name of restricted) {
    assert.ok(declared.has(name), `${name} is restricted but not declared`);
  }
  for (const name of ["serverPath", "python", "model", "runtime", "endpoint", "apiKeyEnv", "cacheDir", "fix.check"]) {
    assert.ok(restricted.includes(`chmocoder.${name}`), `chmocoder.${name} is not restricted`);
  }
});
