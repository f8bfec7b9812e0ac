#!/usr/bin/env node
// Bundles the CLI into dist/bin/ so that `agent-safe` starts fast: one module graph for what every
// command needs, and code-split chunks for what only some commands reach through a dynamic
// import(). Splitting matters: without it esbuild inlines every dynamically imported module and
// hoists its static imports of external packages (zod, yaml, ioredis) to the top of main.js, so
// every start would load them (measured: `--version` 140 ms without splitting, 50-80 ms with).
// Third-party packages that are big or only needed by some commands stay external and load on
// first use: yaml and zod on a cache miss, the stores' drivers, the sidecar's server, the
// executors' SDKs.
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
  external: [
    "yaml",
    "zod",
    "better-sqlite3",
    "ioredis",
    "pg",
    "fastify",
    "pino",
    "prom-client",
    "@kubernetes/client-node",
    "@aws-sdk/*",
  ],
  // commander is CommonJS; an ESM bundle needs a require() for its built-in imports.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  logLevel: "warning",
});
