/** Where the installed package lives (for the shipped catalogue), wherever this code was bundled. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached !== undefined) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "agent-safe"
    ) {
      cached = dir;
      return dir;
    }
    if (dirname(dir) === dir) throw new Error("cannot find the agent-safe package directory");
  }
}
