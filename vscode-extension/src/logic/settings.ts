// What the server is sent of the extension's settings: every setting the manifest declares
// under `chmocoder.` (a dotted name nests: `hover.enabled` -> `{ hover: { enabled } }`), but
// the extension's own (which server to start), so a setting added to package.json reaches
// the server without a second list to keep in step with it.

export const CLIENT_ONLY: ReadonlySet<string> = new Set(["serverPath", "python"]);

export interface Manifest {
  contributes: { configuration: { properties: Record<string, unknown> } };
  capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } };
}

export function settingNames(manifest: Manifest): string[] {
  return Object.keys(manifest.contributes.configuration.properties)
    .filter((name) => name.startsWith("chmocoder."))
    .map((name) => name.slice("chmocoder.".length));
}

export function serverSettings(names: readonly string[], get: (name: string) => unknown): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const name of names) {
    const got = get(name);
    if (CLIENT_ONLY.has(name) || got === undefined || (name === "cacheDir" && !got)) {
      continue; // an empty cacheDir: the server's default
    }
    const parts = name.split(".");
    let at = value;
    for (const part of parts.slice(0, -1)) {
      at = (at[part] ??= {}) as Record<string, unknown>;
    }
    at[parts[parts.length - 1]] = got;
  }
  return value;
}
