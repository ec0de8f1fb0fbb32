// End-to-end in a real VS Code (code-server) driven by Chromium: install the .vsix, open a
// file, hover a function (the explanation comes from the model), run the Explain code action,
// check the panel, type a line and accept the inline suggestion with Tab, save screenshots. Inputs from the environment; exits non-zero on failure.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const codeServer = env("CODE_SERVER");
const vsix = env("VSIX");
const workspace = env("WORKSPACE");
const out = env("OUT");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const userDir = join(out, "user");
const extensionsDir = join(out, "extensions");
mkdirSync(join(userDir, "User"), { recursive: true });

const settings = {
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "editor.hover.delay": 100,
  "workbench.tips.enabled": false,
  "editor.quickSuggestions": { "other": false, "comments": false, "strings": false },
  "chmocoder.python": env("CHMO_PYTHON"),
  "chmocoder.model": env("CHMO_MODEL"),
  "chmocoder.nCtx": 2048,
  "chmocoder.nThreads": 1,
  "chmocoder.maxTokens": 24,
  "chmocoder.daemonIdleS": 5,
  "chmocoder.hover.timeoutMs": 60000,
  "chmocoder.review.mode": "off",
  "chmocoder.cacheDir": join(out, "cache"),
};
writeFileSync(join(userDir, "User", "settings.json"), JSON.stringify(settings, null, 2));

const install = spawnSync(codeServer, ["--install-extension", vsix, "--extensions-dir", extensionsDir, "--user-data-dir", userDir], { encoding: "utf8" });
if (install.status !== 0) throw new Error(`installing the .vsix failed: ${install.stderr}`);

const port = await new Promise((resolve) => {
  const probe = createServer();
  probe.listen(0, "127.0.0.1", () => { const p = probe.address().port; probe.close(() => resolve(p)); });
});
const server = spawn(codeServer, ["--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--user-data-dir", userDir,
  "--extensions-dir", extensionsDir, "--disable-telemetry", "--disable-update-check", workspace], { stdio: "ignore" });

const results = {};
let browser;
try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break; } catch {}
    if (i > 300) throw new Error("code-server did not start");
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByText("shapes.py", { exact: true }).click({ timeout: 60000 });
  await page.locator(".monaco-editor .view-lines").first().waitFor({ timeout: 60000 });
  await page.waitForTimeout(3000); // the extension activates and the server starts

  // Hover `area`: facts, then the model's explanation
  const token = page.locator(".monaco-editor .view-line span", { hasText: /^area$/ }).first();
  let hover = "";
  for (let attempt = 0; attempt < 20 && !hover.includes("The method"); attempt++) {
    await page.mouse.move(0, 0);
    // into the editor in steps, as a hand moves: on a loaded machine (CI's 2 cores) one jump
    // from outside the editor to the word asked for no hover in 20 tries; steps did each time
    const box = await token.boundingBox();
    if (!box) throw new Error("the word `area` is not on screen");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
    try {
      await page.locator(".monaco-hover-content").filter({ hasText: "The method" }).first().waitFor({ timeout: 5000 });
    } catch {}
    hover = (await page.locator(".monaco-hover-content").allInnerTexts()).join("\n");
  }
  results.hover = hover;
  await page.screenshot({ path: join(out, "vscode-hover.png") });

  // The Explain code action, from the Quick Fix menu
  await page.mouse.move(0, 0);
  await token.click();
  await page.keyboard.press("Escape");
  // the Quick Fix menu, opened from the command palette with the mouse (shortcuts are unreliable headless)
  await page.locator(".command-center").first().click();
  const input = page.locator(".quick-input-widget input").first();
  await input.waitFor({ timeout: 10000 });
  await input.fill(">Quick Fix...");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "Quick Fix..." }).first().click({ timeout: 10000 });
  const explain = page.locator(".action-widget .monaco-list-row", { hasText: "ChMOCoder: Explain" }).first();
  try {
    await explain.waitFor({ timeout: 30000 });
  } finally {
    await page.screenshot({ path: join(out, "vscode-quickfix.png") });
  }
  // the menu's own overlay blocks pointer clicks: move to the Explain entry with the arrow keys
  const rows = await page.locator(".action-widget .monaco-list-row.action").allInnerTexts();
  const steps = rows.findIndex((text) => text.includes("ChMOCoder: Explain"));
  results.menu = rows;
  for (let i = 0; i < steps; i++) {
    await page.keyboard.press("ArrowDown");
  }
  await page.screenshot({ path: join(out, "vscode-quickfix.png") });
  await page.keyboard.press("Enter");



  const tab = page.locator(".tab", { hasText: "ChMOCoder: Explain area" }).first();
  await tab.waitFor({ timeout: 60000 });
  results.panelTitle = await tab.innerText();
  const frame = page.frameLocator("iframe.webview").first().frameLocator("iframe").first();
  try {
    await frame.locator("#answer").waitFor({ timeout: 30000 });
    results.panel = await frame.locator("body").innerText();
  } catch (error) {
    results.panelError = String(error);
  }
  await page.waitForTimeout(1000);
  await page.screenshot({ path: join(out, "vscode-explain.png") });

  // Inline completion: type the start of a line, ghost text appears, Tab accepts it
  await page.locator(".tab", { hasText: "shapes.py" }).first().click();
  await page.locator(".monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+End");
  await page.keyboard.press("Enter");
  await page.keyboard.type("unit_area = ", { delay: 50 });
  const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first();
  try {
    await ghost.waitFor({ timeout: 60000 });
    results.ghost = (await page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").allInnerTexts()).join("");
  } finally {
    await page.screenshot({ path: join(out, "vscode-ghost-text.png") });
  }
  await page.keyboard.press("Tab");
  await page.waitForTimeout(500);
  await page.keyboard.press("Escape"); // the next suggestion, at the line's new end, is not wanted
  await page.waitForTimeout(300);
  results.ghostAfterEscape = await page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").count();
  const lines = await page.locator(".monaco-editor .view-line").allInnerTexts();
  results.acceptedLine = lines.map((line) => line.replace(/\u00a0/g, " ")).find((line) => line.includes("unit_area")) ?? "";
  // save (from the command palette: shortcuts are unreliable headless); the test reads the file
  await page.locator(".command-center").first().click();
  const palette = page.locator(".quick-input-widget input").first();
  await palette.waitFor({ timeout: 10000 });
  await palette.fill(">File: Save");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "File: Save" }).first().waitFor({ timeout: 10000 });
  const entries = page.locator(".quick-input-list .monaco-list-row");
  const labels = (await entries.allInnerTexts()).map((text) => text.split("\n")[0]);
  const focused = await entries.evaluateAll((rows) => rows.findIndex((row) => row.classList.contains("focused")));
  const wanted = labels.indexOf("File: Save");
  for (let i = Math.max(focused, 0); i < wanted; i++) await page.keyboard.press("ArrowDown");
  for (let i = Math.max(focused, 0); i > wanted; i--) await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Enter");
  await page.waitForTimeout(1000);
} finally {
  writeFileSync(join(out, "results.json"), JSON.stringify(results, null, 2));
  await browser?.close();
  server.kill();
}
