// The commands in the palette and the editor's context menu. Their ids are chmocoder.vscode.*:
// the language client registers the server's own commands (chmocoder.explain, ...) by name.
import * as vscode from "vscode";
import { LanguageClient } from "vscode-languageclient/node";

function target(editor: vscode.TextEditor): Record<string, unknown> {
  const uri = editor.document.uri.toString();
  const selection = editor.selection;
  if (!selection.isEmpty) {
    return {
      uri,
      range: {
        start: { line: selection.start.line, character: selection.start.character },
        end: { line: selection.end.line, character: selection.end.character },
      },
    };
  }
  return { uri, position: { line: selection.active.line, character: selection.active.character } };
}

export function registerCommands(getClient: () => LanguageClient | undefined, log: vscode.OutputChannel, restart: () => Promise<void>): vscode.Disposable[] {
  const run = async (command: string, args: Record<string, unknown>) => {
    const client = getClient();
    if (!client?.isRunning()) {
      void vscode.window.showWarningMessage("ChMOCoder: the server is not running (see the log).");
      return undefined;
    }
    return client.sendRequest("workspace/executeCommand", { command, arguments: [args] });
  };
  const withEditor = (fn: (editor: vscode.TextEditor) => Promise<unknown>) => async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage("ChMOCoder: open a file first.");
      return;
    }
    await fn(editor);
  };
  return [
    vscode.commands.registerCommand("chmocoder.vscode.explain", withEditor((editor) => run("chmocoder.explain", target(editor)))),
    vscode.commands.registerCommand("chmocoder.vscode.fix", withEditor(async () => vscode.commands.executeCommand("editor.action.quickFix"))),

    vscode.commands.registerCommand("chmocoder.vscode.reviewFile", withEditor(async (editor) => {
      const result = (await run("chmocoder.review", { uri: editor.document.uri.toString() })) as { findings?: number } | undefined;
      if (result) {
        void vscode.window.showInformationMessage(`ChMOCoder: review done, ${result.findings ?? 0} findings.`);
      }
    })),
    vscode.commands.registerCommand("chmocoder.vscode.askSelection", withEditor(async (editor) => {
      const question = await vscode.window.showInputBox({ prompt: "Ask ChMOCoder about the selection", placeHolder: "What does this do?" });
      if (question) {
        await run("chmocoder.ask", { ...target(editor), question });
      }
    })),
    vscode.commands.registerCommand("chmocoder.vscode.clearConversation", withEditor((editor) => run("chmocoder.clearHistory", { uri: editor.document.uri.toString() }))),
    vscode.commands.registerCommand("chmocoder.vscode.restartServer", restart),
    vscode.commands.registerCommand("chmocoder.vscode.showLog", () => log.show(true)),
  ];
}
