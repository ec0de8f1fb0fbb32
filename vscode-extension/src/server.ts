// The language client: starts `chmocoder serve`, passes the settings, and routes the
// server's own notifications (streamed answers, model status) to the panel and status bar.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, State as ClientState } from "vscode-languageclient/node";
import manifest from "../package.json";
import { Candidate } from "./logic/candidates";
import { serverSettings, settingNames } from "./logic/settings";
import { AnswerPanel, MarkdownParams } from "./panel";
import { Status } from "./status";

export const LANGUAGES = [
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust", "java",
  "c", "cpp", "csharp", "ruby", "php", "shellscript", "lua",
];

class ChmoClient extends LanguageClient {
  // Declares the panel and status notifications this extension shows.
  protected fillInitializeParams(params: Parameters<LanguageClient["fillInitializeParams"]>[0]): void {
    super.fillInitializeParams(params);
    params.capabilities.experimental = { ...(params.capabilities.experimental as object), chmocoder: { markdownPanel: true } };
  }
}

export function settings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration("chmocoder");
  return serverSettings(settingNames(manifest), (name) => config.get(name));
}

export function createClient(server: Candidate, log: vscode.OutputChannel, panel: AnswerPanel, status: Status): LanguageClient {
  const serverOptions: ServerOptions = { command: server.command, args: server.args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.map((language) => ({ language })),
    initializationOptions: settings(),
    outputChannel: log,
    middleware: {
      workspace: {
        configuration: () => [settings()],
      },
    },
  };
  const client = new ChmoClient("chmocoder", "ChMOCoder", serverOptions, clientOptions);
  // LSP 3.18 inline completion (ghost text): the client's own provider over the server's
  // textDocument/inlineCompletion; VS Code's commands accept it whole, by word or by line.
  client.registerProposedFeatures();
  client.onDidChangeState((event) => {
    if (event.newState === ClientState.Starting) status.set("starting");
    else if (event.newState === ClientState.Running) status.set("ready");
    else status.set("stopped");
  });
  client.onNotification("chmocoder/markdown", (params: MarkdownParams) => panel.show(params));
  client.onNotification("chmocoder/status", (params: { state: "loading" | "generating" | "waiting" | "ready" | "error"; detail?: string; tokensPerSecond?: number }) =>

    status.set(params.state, params.detail ?? "", params.tokensPerSecond),
  );
  return client;
}

// Settings reach the server without a reload.
export function watchSettings(client: LanguageClient): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration("chmocoder") && client.isRunning()) {
      void client.sendNotification("workspace/didChangeConfiguration", { settings: { chmocoder: settings() } });
    }
  });
}
