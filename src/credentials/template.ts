/**
 * Credential scope templating (REFERENCE.md §9), and nothing more: inside `fields` only, through
 * lists and maps, every `{{ params.<name> }}` in a string becomes Python `str()` of the ticket's
 * param (`3`, `True`, `None`, `[1, 'a']`). Keys, `type` and `ttl` are left alone; non-string
 * values pass through. There is no other expression language: `{{ target }}`, filters or
 * arithmetic are plain text.
 *
 * Where we differ from 0.9.0 (both for safety, documented in docs/credentials.md):
 * - strict profile: a placeholder naming a param the ticket does not carry is an error (0.9.0,
 *   and our `reference` profile, leave it verbatim);
 * - every profile: a substituted value may not contain `*`, `?` (IAM/RBAC wildcards), `${`
 *   (IAM policy variables) or control characters: an agent passing `instance_id: "*"` would
 *   otherwise widen `arn:…:instance/{{ params.instance_id }}` to every instance;
 * - every profile: a sensitive param the ticket holds only as a digest cannot be substituted
 *   (its value was never proven), so it is an error rather than a digest in a policy.
 */
import { pyStr } from "../core/pyformat.js";
import { PyDate, PyDateTime, PyFloat } from "../core/pyvalue.js";
import type { CredentialScope } from "../core/types.js";
import type { RenderedScope } from "./credential.js";
import { CredentialError } from "./errors.js";

/** Python `re`: `{{\s*params\.(\w+)\s*}}` (`\w` is Unicode-aware there too). */
const PLACEHOLDER = /\{\{\s*params\.([\p{L}\p{N}_]+)\s*\}\}/gu;
const UNSAFE = /[*?\u0000-\u001f\u007f]|\$\{/;

export interface RenderOptions {
  /** Unknown placeholders are errors (strict, the default) or left verbatim (reference). */
  strict?: boolean;
  /** Params the ticket holds only as digests (`VerifiedTicket.redacted_params`, when not re-supplied). */
  digestOnly?: readonly string[];
}

export interface RenderResult {
  scope: RenderedScope;
  /** The params that were substituted, in first-use order. */
  used: string[];
}

/** Renders `scope.fields` with `params`; throws `CredentialError("template")` when unsafe. */
export function renderScope(
  scope: CredentialScope,
  params: Readonly<Record<string, unknown>>,
  options: RenderOptions = {},
): RenderResult {
  const strict = options.strict ?? true;
  const digestOnly = new Set(options.digestOnly ?? []);
  const used: string[] = [];
  const missing: string[] = [];

  const renderString = (text: string, where: string): string =>
    text.replace(PLACEHOLDER, (match, name: string) => {
      if (!Object.hasOwn(params, name)) {
        if (!missing.includes(name)) missing.push(name);
        return match;
      }
      if (digestOnly.has(name)) {
        throw new CredentialError(
          "template",
          `Credential scope ${where} uses the sensitive param '${name}', which the ticket holds only as a digest; ` +
            "pass the params being executed so it can be checked",
        );
      }
      const value = pyStr(params[name]);
      if (UNSAFE.test(value)) {
        throw new CredentialError(
          "template",
          `Param '${name}' cannot be used in credential scope ${where}: it contains a wildcard, a policy ` +
            "variable or a control character, which would widen the credential",
        );
      }
      if (!used.includes(name)) used.push(name);
      return value;
    });

  const render = (value: unknown, where: string): unknown => {
    if (typeof value === "string") return renderString(value, where);
    if (Array.isArray(value)) return value.map((v, i) => render(v, `${where}[${i}]`));
    if (value instanceof PyFloat) return value.value;
    if (value instanceof PyDate || value instanceof PyDateTime) return value.toJSON();
    if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = render(v, `${where}.${k}`);
      return out;
    }
    return value;
  };

  const fields = render(scope.fields, "fields") as Record<string, unknown>;
  if (strict && missing.length > 0) {
    const names = missing.map((n) => `'${n}'`).join(", ");
    throw new CredentialError(
      "template",
      `Credential scope of type '${scope.type}' references ${missing.length === 1 ? "param" : "params"} ${names}, ` +
        "which the ticket does not carry",
    );
  }
  return { scope: { type: scope.type, fields, ttl: scope.ttl }, used };
}
