// Activates and deactivates; everything else lives in the small modules beside this one.
import * as vscode from "vscode";
import { LanguageClient } from "vscode-languageclient/node";
import { registerCommands } from "./commands";
import { AnswerPanel } from "./panel";
import { findServer } from "./python";
import { createClient, watchSettings } from "./server";
import { CompletionToggle, Status } from "./status";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("ChMOCoder");
  const status = new Status(context);
  const panel = new AnswerPanel(context);
  new CompletionToggle(context);
  const start = async () => {
    const server = await findServer(log);
    if (!server) {
      status.set("error", "no server found");
      return;
    }
    client = createClient(server, log, panel, status);
    context.subscriptions.push(watchSettings(client));
    await client.start();
  };
  const restart = async () => {
    if (client) {
      await client.stop();
      client = undefined;
    }
    await start();
  };
  context.subscriptions.push(log, ...registerCommands(() => client, log, restart));
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
