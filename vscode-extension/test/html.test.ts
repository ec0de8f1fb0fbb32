import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeHtml, newNonce, panelHtml, renderMarkdown } from "../src/logic/html";

test("model output cannot inject script or HTML", () => {
  const html = renderMarkdown('Hi <script>alert(1)</script> <img src=x onerror="alert(2)">');
  assert.ok(!html.includes("<script>"));
  assert.ok(!html.includes("<img"));
  assert.ok(html.includes("&lt;script&gt;"));
});

test("code blocks are rendered as pre/code", () => {
  const html = renderMarkdown("```python\nprint('x')\n```");
  assert.ok(html.startsWith('<pre><code class="language-python">print(\'x\')\n</code></pre>'), html);
});

test("the page has a strict CSP and only our nonce script", () => {
  const page = panelHtml({ title: "Explain <f>", markdown: "**bold**", nonce: "abc123", cspSource: "vscode-resource:", done: false });
  assert.match(page, /default-src 'none'/);
  assert.match(page, /script-src 'nonce-abc123'/);
  assert.equal((page.match(/<script/g) ?? []).length, 1);
  assert.ok(page.includes("<script nonce=\"abc123\">"));
  assert.ok(page.includes("<strong>bold</strong>"));
  assert.ok(page.includes("Explain &lt;f&gt;"));
  assert.ok(page.includes("… writing"));
  assert.ok(!panelHtml({ title: "t", markdown: "", nonce: "n", cspSource: "s", done: true }).includes("… writing"));
});

test("escapeHtml and nonces", () => {
  assert.equal(escapeHtml('<a href="x">&</a>'), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
  assert.equal(newNonce(() => 0).length, 32);
  assert.notEqual(newNonce(), newNonce());
});
