// Markdown answers rendered for the panel. Model output is untrusted: raw HTML in it is
// escaped (markdown-it with html: false), links are not followed from the panel, and the
// page's Content-Security-Policy allows only our own script (by nonce) and styles.
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: false, breaks: false });

export function renderMarkdown(markdown: string): string {
  return md.render(markdown);
}

export function panelHtml(options: { title: string; markdown: string; nonce: string; cspSource: string; done: boolean }): string {
  const body = renderMarkdown(options.markdown);
  const csp = [
    "default-src 'none'",
    `style-src ${options.cspSource} 'unsafe-inline'`,
    `script-src 'nonce-${options.nonce}'`,
    "img-src data:",
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(options.title)}</title>
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
  pre { background: var(--vscode-textCodeBlock-background); padding: 0.6em; overflow-x: auto; position: relative; }
  .actions { text-align: right; margin: -0.4em 0 0.8em; }
  button { font: inherit; margin-left: 0.4em; }
  .writing { opacity: 0.7; font-style: italic; }
</style>
</head>
<body>
<h2 id="title">${escapeHtml(options.title)}</h2>
<div id="answer">${body}</div>
${options.done ? "" : '<p class="writing">… writing</p>'}
<script nonce="${options.nonce}">
  const vscode = acquireVsCodeApi();
  for (const block of document.querySelectorAll("pre > code")) {
    const actions = document.createElement("div");
    actions.className = "actions";
    for (const [label, type] of [["Copy", "copy"], ["Insert", "insert"]]) {
      const button = document.createElement("button");
      button.textContent = label;
      button.addEventListener("click", () => vscode.postMessage({ type, text: block.textContent }));
      actions.appendChild(button);
    }
    block.parentElement.after(actions);
  }
  for (const link of document.querySelectorAll("a")) {
    link.addEventListener("click", (event) => event.preventDefault());
  }
</script>
</body>
</html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function newNonce(random: () => number = Math.random): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let nonce = "";
  for (let i = 0; i < 32; i++) {
    nonce += alphabet.charAt(Math.floor(random() * alphabet.length));
  }
  return nonce;
}
