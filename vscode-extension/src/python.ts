// Finds a working server command: chmocoder.serverPath, chmocoder.python, the Python
// extension's interpreter, then `chmocoder` on PATH.
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import { Candidate, notFoundMessage, probeArgs, serverCandidates } from "./logic/candidates";

async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension("ms-python.python");
  if (!extension) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const environments = api?.environments;
    const active = environments?.getActiveEnvironmentPath?.();
    return active?.path;
  } catch {
    return undefined;
  }
}

function works(candidate: Candidate): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(candidate.command, probeArgs(candidate), { timeout: 20000 }, (error, stdout) => {
      resolve(!error && stdout.startsWith("chmocoder "));
    });
  });
}

export async function findServer(log: vscode.OutputChannel): Promise<Candidate | undefined> {
  const config = vscode.workspace.getConfiguration("chmocoder");
  const candidates = serverCandidates({
    serverPath: config.get<string>("serverPath", ""),
    python: config.get<string>("python", ""),
    pythonExtensionInterpreter: await pythonExtensionInterpreter(),
  });
  for (const candidate of candidates) {
    if (await works(candidate)) {
      log.appendLine(`Using ${candidate.label}: ${candidate.command} ${candidate.args.join(" ")}`);
      return candidate;
    }
    log.appendLine(`Not usable: ${candidate.label}`);
  }
  void vscode.window.showErrorMessage(notFoundMessage(candidates));
  return undefined;
}
