/** `${NAME}` expansion for configuration values, done where a value is used, never cached. */
import { ConfigError } from "./errors.js";

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` with the environment variable; `$${` is a literal `${`. A missing variable
 * is an error naming the setting (`where`), never an empty string.
 */
export function expandEnv(value: string, where: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(ENV_REF, (_match, name: string | undefined) => {
    if (name === undefined) return "${";
    const found = env[name];
    if (found === undefined) throw new ConfigError(`${where}: environment variable ${name} is not set`);
    return found;
  });
}
