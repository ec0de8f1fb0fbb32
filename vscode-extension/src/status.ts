// The status bar item: server and model state; a click shows the log.
import * as vscode from "vscode";
import { State, statusView } from "./logic/status";

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
