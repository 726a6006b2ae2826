// Bundles the dashboard (web/src) into web/dist with esbuild: `node web/build.mjs` (make web).
// React, react-dom and chart.js come from node_modules; nothing is fetched at run time.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

const result = await build({
  absWorkingDir: here,
  entryPoints: { app: join(here, "src", "main.jsx") },
  outdir: join(here, "dist"),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.entries(result.metafile.outputs)
  .filter(([name]) => !name.endsWith(".map"))
  .map(([name, output]) => `${name} ${(output.bytes / 1024).toFixed(0)} KiB`);
console.log(`dashboard built: ${outputs.join(", ")}`);
