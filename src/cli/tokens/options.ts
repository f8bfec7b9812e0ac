/** Options of the key, identity, delegation and ticket commands (no heavy imports: loaded at start). */
import type { OptionSpec } from "../spec.js";

export const TOKEN_OPTIONS: readonly OptionSpec[] = [
  { flags: "--json", description: "print machine-readable JSON" },
  { flags: "--json-output", description: "alias of --json", hidden: true },
  {
    flags: "--config <file>",
    description: "agent-safe.yaml to use (default: found from the working directory upwards)",
  },
  { flags: "--debug", description: "show stack traces on errors" },
];

/** 0.9.0's way of naming the key: accepted, hidden, discouraged. */
export const LEGACY_KEY_OPTIONS: readonly OptionSpec[] = [
  {
    flags: "--signing-key <secret>",
    description: "0.9.0: the HS256 secret (visible to other users; prefer keys.hmac_secret)",
    hidden: true,
  },
  {
    flags: "--issuer <issuer>",
    description: "0.9.0: the issuer to expect (default: keys.issuer)",
    hidden: true,
  },
];
