// Runs the CLI from source (no build): `npx tsx scripts/cli-dev.ts check ...`.
// check --batch with workers needs the built bundle; everything else works from here.
import { main } from "../src/cli/main.js";

process.exitCode = await main(process.argv);
