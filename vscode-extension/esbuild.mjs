// Bundles the extension (and, with --tests, the unit tests) with esbuild.
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const tests = process.argv.includes("--tests");
if (tests) {
  await build({
    entryPoints: readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`),
    bundle: true,
    platform: "node",
    format: "cjs",
    outdir: "dist-test",
    external: ["vscode"],
    logLevel: "warning",
  });
} else {
  await build({
    entryPoints: ["src/extension.ts"],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    outfile: "dist/extension.js",
    external: ["vscode"],
    sourcemap: true,
    minify: true,
    logLevel: "warning",
  });
}
