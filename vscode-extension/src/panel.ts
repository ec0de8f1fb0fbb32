// The answer panel: a webview that shows streamed markdown answers, with Copy and Insert
// buttons on code blocks. See logic/html.ts for what keeps model output inert.
import * as vscode from "vscode";
import { newNonce, panelHtml } from "./logic/html";

export interface MarkdownParams {
  id: string;
  title: string;
  markdown: string;
  done: boolean;
}

export class AnswerPanel {
  private panel: vscode.WebviewPanel | undefined;
  private lastEditor: vscode.TextEditor | undefined;
  public lastMarkdown = "";

  constructor(private readonly context: vscode.ExtensionContext) {
    context.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor) {
          this.lastEditor = editor;
        }
      }),
    );
    this.lastEditor = vscode.window.activeTextEditor;
  }

  show(params: MarkdownParams): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        "chmocoder.answer",
        "ChMOCoder",
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, localResourceRoots: [] },
      );
      this.panel.onDidDispose(() => (this.panel = undefined), null, this.context.subscriptions);
      this.panel.webview.onDidReceiveMessage((message) => this.onMessage(message), null, this.context.subscriptions);
    }
    this.lastMarkdown = params.markdown;
    this.panel.title = `ChMOCoder: ${params.title}`;
    this.panel.webview.html = panelHtml({
      title: params.title,
      markdown: params.markdown,
      nonce: newNonce(),
      cspSource: this.panel.webview.cspSource,
      done: params.done,
    });
  }

  private async onMessage(message: { type?: string; text?: string }): Promise<void> {
    const text = typeof message.text === "string" ? message.text : "";
    if (message.type === "copy") {
      await vscode.env.clipboard.writeText(text);
      void vscode.window.setStatusBarMessage("ChMOCoder: copied", 2000);
    } else if (message.type === "insert" && this.lastEditor) {
      const editor = this.lastEditor;
      await editor.edit((edit) => edit.replace(editor.selection, text));
    }
  }
}
