/**
 * The `server:` section of agent-safe.yaml: defaults for `agent-safe serve`, so that a deployment
 * can keep the whole sidecar configuration in one file (e.g. a Kubernetes Secret). Every key is
 * optional; a command-line flag wins over the file, the file over the built-in default. Paths
 * are relative to the config file's directory. The insecure switches (`--insecure-no-auth`,
 * `--insecure-no-tls`) are deliberately command-line only: weakening the sidecar must be visible
 * where it is started.
 *
 * ```yaml
 * server:
 *   host: 127.0.0.1
 *   port: 8420
 *   tls_cert: tls/tls.crt
 *   tls_key: tls/tls.key
 *   admin_token_file: admin.token
 *   ops_port: 8421
 * ```
 */
import { resolve } from "node:path";
import type * as z from "zod";
import type { ProjectConfig } from "../config/project.js";
import { serverSettingsSchema } from "../config/server-schema.js";
import { describeIssues } from "./errors.js";

export { serverSettingsSchema };

export type ServerSettings = z.output<typeof serverSettingsSchema>;

/** A `server:` section that does not validate. */
export class ServerSettingsError extends Error {
  override name = "ServerSettingsError";
}

/** The project's `server:` section, validated, with its paths resolved; `{}` without one. */
export function serverSettings(project: ProjectConfig): ServerSettings {
  const raw = (project.settings as { server?: unknown }).server;
  if (raw === null || raw === undefined) return {};
  const parsed = serverSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ServerSettingsError(
      `${project.file ?? "agent-safe.yaml"}: server: ${describeIssues(parsed.error)}`,
    );
  }
  const s = { ...parsed.data };
  for (const key of ["tls_cert", "tls_key", "admin_token_file"] as const) {
    const v = s[key];
    if (v !== undefined) s[key] = resolve(project.root, v);
  }
  if ((s.tls_cert === undefined) !== (s.tls_key === undefined)) {
    throw new ServerSettingsError(
      `${project.file ?? "agent-safe.yaml"}: server: give both tls_cert and tls_key, or neither`,
    );
  }
  return s;
}
