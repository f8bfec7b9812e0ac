/** `agent-safe keys show|rotate|export|generate`: the project's signing keys. */
import { KEY_PURPOSES } from "../../keys/keystore.js";
import type { CommandSpec } from "../spec.js";
import { TOKEN_OPTIONS } from "../tokens/options.js";

const PURPOSE = { name: "<purpose>", description: `one of: ${KEY_PURPOSES.join(", ")}` };

export const keysShowCommand: CommandSpec = {
  name: "keys show",
  groupSummary: "show, generate, rotate and export signing keys",
  isDefault: true,
  summary: "list the signing keys, current and retired",
  description: "List each purpose's current key and the retired keys that still verify, with key ids.",
  arguments: [],
  options: TOKEN_OPTIONS,
  async run(_args, options) {
    const { runKeysShow } = await import("../tokens/keys-run.js");
    runKeysShow(options);
  },
};

export const keysGenerateCommand: CommandSpec = {
  name: "keys generate",
  summary: "create a key for a purpose if there is none",
  description: "Create an Ed25519 key (mode 0600) for PURPOSE. An existing key is never overwritten.",
  arguments: [PURPOSE],
  options: TOKEN_OPTIONS,
  async run([purpose], options) {
    const { runKeysGenerate } = await import("../tokens/keys-run.js");
    runKeysGenerate(purpose as string, options);
  },
};

export const keysRotateCommand: CommandSpec = {
  name: "keys rotate",
  summary: "replace a key; the old one keeps verifying for a while",
  description:
    "Replace PURPOSE's key with a new one. The old public key keeps verifying what it signed for\n" +
    "--keep seconds (default: the lifetime of that purpose's tokens), then is ignored. Running\n" +
    "processes pick up the new key within 5 seconds. After a compromise, use --keep 0.",
  arguments: [PURPOSE],
  options: [
    { flags: "--keep <seconds>", description: "how long the old key keeps verifying" },
    ...TOKEN_OPTIONS,
  ],
  async run([purpose], options) {
    const { runKeysRotate } = await import("../tokens/keys-run.js");
    runKeysRotate(purpose as string, options);
  },
};

export const keysExportCommand: CommandSpec = {
  name: "keys export",
  summary: "export the public keys as a JWKS",
  description:
    "Print the public keys that currently verify (current and retired within their keep period) as a\n" +
    "JSON Web Key Set, or write it to --jwks FILE for verifiers elsewhere. No private key is exported.",
  arguments: [],
  options: [{ flags: "--jwks <file>", description: "write the JWKS to this file" }, ...TOKEN_OPTIONS],
  async run(_args, options) {
    const { runKeysExport } = await import("../tokens/keys-run.js");
    runKeysExport(options);
  },
};
