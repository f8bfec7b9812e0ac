#!/usr/bin/env node
// Bundles the CLI into dist/bin/ so that `agent-safe` starts fast: one module graph to load
// instead of ~40 files. yaml and zod stay external and are only imported on a cache miss.
// The library (dist/index.js) is the plain tsc output.
import { build } from "esbuild";

await build({
  // Worker entries keep their module's file name: code finds them as `new URL("./<name>.js", import.meta.url)`
  // both in dist/<dir>/ (tsc output) and here in dist/bin/.
  entryPoints: {
    main: "dist/cli/main.js",
    worker: "dist/cli/batch/worker.js",
    "verify-worker": "dist/audit/verify-worker.js",
  },
  outdir: "dist/bin",
  bundle: true,
  splitting: true,
  minify: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  external: ["yaml", "zod"],
  // commander is CommonJS; an ESM bundle needs a require() for its built-in imports.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  logLevel: "warning",
});
