// The status bar's text and tooltip for each state of the server and the model.

export type State = "starting" | "loading" | "ready" | "generating" | "waiting" | "error" | "stopped";

export interface StatusView {
  text: string;
  tooltip: string;
}

export function statusView(state: State, detail = "", tokensPerSecond?: number): StatusView {
  switch (state) {
    case "starting":
      return { text: "$(sync~spin) ChMOCoder", tooltip: "Starting the ChMOCoder language server" };
    case "loading":
      return { text: "$(sync~spin) ChMOCoder: loading model", tooltip: "Loading the model" };
    case "generating":
      return { text: "$(loading~spin) ChMOCoder: generating", tooltip: detail || "The model is writing" };
    case "waiting":
      return { text: "$(watch) ChMOCoder: server busy", tooltip: detail || "The model server is busy: asking again" };
    case "ready": {
      const rate = tokensPerSecond !== undefined ? ` (${tokensPerSecond.toFixed(1)} tok/s)` : "";
      return { text: `$(check) ChMOCoder${rate}`, tooltip: "Ready. Click to show the log." };
    }
    case "error":
      return { text: "$(error) ChMOCoder", tooltip: `Error: ${detail}. Click to show the log.` };
    case "stopped":
      return { text: "$(circle-slash) ChMOCoder", tooltip: "The server is not running. Click to show the log." };
  }
}

// The inline-completion toggle beside it.
export function completionView(enabled: boolean): StatusView {
  return enabled
    ? { text: "$(sparkle) on", tooltip: "ChMOCoder suggests code as you type. Click to turn it off." }
    : { text: "$(sparkle) off", tooltip: "ChMOCoder suggests code only when asked (Trigger Inline Suggestion). Click to turn suggestions as you type on." };
}
