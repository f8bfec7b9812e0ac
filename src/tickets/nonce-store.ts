/**
 * The project's nonce store: the `nonces` of the `state:` backend in agent-safe.yaml (default
 * `sqlite:.agent-safe/state.db`, with `state_options`), shared by every validator of the deployment. This is the one
 * place the CLI opens it; the SDK and the sidecar pass their own backend's `nonces` instead.
 * A process-local `memory` store would let a ticket be redeemed once per process, so the CLI
 * refuses it.
 */
import type { ProjectConfig } from "../config/project.js";
import { openProjectState } from "../guards/open.js";
import type { NonceStore } from "../state/types.js";
import { TicketError } from "./errors.js";

export interface OpenNonceStore {
  nonces: NonceStore;
  /** Where the nonces live, for messages (no passwords). */
  description: string;
  close(): Promise<void>;
}

export async function openProjectNonceStore(project: ProjectConfig): Promise<OpenNonceStore> {
  // The same store, options and `${ENV}` expansion the guards use (src/guards/open.ts).
  const backend = await openProjectState(project.settings, project.root);
  if (!backend.shared) {
    await backend.close();
    throw new TicketError(
      `state '${project.settings.state}' is private to one process: single use cannot be enforced across ` +
        "commands; use sqlite:<path> or redis://…",
    );
  }
  return { nonces: backend.nonces, description: backend.description, close: () => backend.close() };
}
