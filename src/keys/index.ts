export {
  KEY_PURPOSES,
  KeyError,
  type KeyPurpose,
  KeyStore,
  keyId,
  publicJwk,
  type SigningKey,
  type VerificationKey,
} from "./keystore.js";

import { resolve } from "node:path";
import type { ProjectConfig } from "../config/project.js";
import { KeyStore } from "./keystore.js";

/** The project's key store: `keys.dir` of agent-safe.yaml, default `.agent-safe/keys`. */
export function projectKeyStore(project: ProjectConfig): KeyStore {
  return new KeyStore(resolve(project.root, project.settings.keys?.dir ?? ".agent-safe/keys"));
}
