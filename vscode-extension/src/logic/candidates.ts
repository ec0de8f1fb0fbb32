// The ways to start the server, in the order they are tried (no vscode import: unit-tested).

export interface Candidate {
  label: string;
  command: string;
  args: string[];
}

export interface CandidateInputs {
  serverPath: string;
  python: string;
  pythonExtensionInterpreter: string | undefined;
}

export function serverCandidates(inputs: CandidateInputs): Candidate[] {
  const found: Candidate[] = [];
  if (inputs.serverPath.trim()) {
    found.push({ label: `chmocoder.serverPath (${inputs.serverPath})`, command: inputs.serverPath, args: ["serve"] });
  }
  if (inputs.python.trim()) {
    found.push({ label: `chmocoder.python (${inputs.python})`, command: inputs.python, args: ["-m", "chmocoder", "serve"] });
  }
  if (inputs.pythonExtensionInterpreter) {
    found.push({
      label: `the Python extension's interpreter (${inputs.pythonExtensionInterpreter})`,
      command: inputs.pythonExtensionInterpreter,
      args: ["-m", "chmocoder", "serve"],
    });
  }
  found.push({ label: "chmocoder on PATH", command: "chmocoder", args: ["serve"] });
  return found;
}

export function notFoundMessage(tried: Candidate[]): string {
  return (
    "ChMOCoder could not start its language server. Tried: " +
    tried.map((c) => c.label).join("; ") +
    ". Install it with `pip install 'chmocoder[llama-cpp,default-model]'` and set chmocoder.python " +
    "or chmocoder.serverPath if it is not on PATH."
  );
}

// How a candidate is checked before it is used: `--version` for the executable, an import for Python.
export function probeArgs(candidate: Candidate): string[] {
  return candidate.args[0] === "-m" ? ["-m", "chmocoder", "--version"] : ["--version"];
}
