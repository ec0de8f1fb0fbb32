// The status bar item: server and model state; a click shows the log.
import * as vscode from "vscode";
import { State, completionView, statusView } from "./logic/status";

export class Status {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);

  constructor(context: vscode.ExtensionContext) {
    this.item.command = "chmocoder.vscode.showLog";
    this.set("starting");
    this.item.show();
    context.subscriptions.push(this.item);
  }

  set(state: State, detail = "", tokensPerSecond?: number): void {
    const view = statusView(state, detail, tokensPerSecond);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
  }
}

// The inline-completion toggle: shows chmocoder.completion.enabled, a click flips it (the
// setting reaches the server like any other).
export class CompletionToggle {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 99);

  constructor(context: vscode.ExtensionContext) {
    this.item.command = "chmocoder.vscode.toggleCompletion";
    this.show();
    this.item.show();
    context.subscriptions.push(
      this.item,
      vscode.commands.registerCommand("chmocoder.vscode.toggleCompletion", () => this.toggle()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration("chmocoder.completion.enabled")) this.show();
      }),
    );
  }

  private enabled(): boolean {
    return vscode.workspace.getConfiguration("chmocoder").get<boolean>("completion.enabled", true);
  }

  private show(): void {
    const view = completionView(this.enabled());
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
  }

  private async toggle(): Promise<void> {
    await vscode.workspace.getConfiguration("chmocoder").update("completion.enabled", !this.enabled(), vscode.ConfigurationTarget.Global);
  }
}
