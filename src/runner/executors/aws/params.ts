/**
 * Reads and checks an action's params before anything is sent to AWS. The PDP validated the params
 * against the action definition already; this is the executor's own, narrower check of what the
 * AWS API needs (types, identifier shapes), so a malformed value fails here with a clear message
 * instead of as an opaque service error. Messages name the parameter, never its value.
 */
import { AwsExecutorError } from "./errors.js";

const REGION = /^[a-z]{2,4}(?:-[a-z0-9]+)+-\d{1,2}$/;

export class ParamReader {
  constructor(private readonly params: Record<string, unknown>) {}

  private invalid(name: string, why: string): AwsExecutorError {
    return new AwsExecutorError("INVALID_PARAMS", `Invalid parameter '${name}': ${why}`);
  }

  /** A required, non-empty string (at most `max` characters), optionally matching `pattern`. */
  str(name: string, opts: { max?: number; pattern?: RegExp; what?: string } = {}): string {
    const v = this.optStr(name, opts);
    if (v === undefined) throw this.invalid(name, "required");
    return v;
  }

  optStr(name: string, opts: { max?: number; pattern?: RegExp; what?: string } = {}): string | undefined {
    const v = this.params[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw this.invalid(name, "expected a string");
    if (v === "") throw this.invalid(name, "must not be empty");
    const max = opts.max ?? 1024;
    if (v.length > max) throw this.invalid(name, `longer than ${max} characters`);
    if (opts.pattern !== undefined && !opts.pattern.test(v)) {
      throw this.invalid(name, `not a valid ${opts.what ?? "value"}`);
    }
    return v;
  }

  /** The region, which also becomes part of the endpoint host name: checked strictly. */
  region(): string {
    return this.str("region", { max: 32, pattern: REGION, what: "AWS region (e.g. us-east-1)" });
  }

  int(name: string, min: number, max: number): number {
    const v = this.optInt(name, min, max);
    if (v === undefined) throw this.invalid(name, "required");
    return v;
  }

  optInt(name: string, min: number, max: number): number | undefined {
    const raw = this.params[name];
    if (raw === undefined || raw === null) return undefined;
    const v = typeof raw === "bigint" ? Number(raw) : raw;
    if (typeof v !== "number" || !Number.isInteger(v)) throw this.invalid(name, "expected an integer");
    if (v < min || v > max) throw this.invalid(name, `must be between ${min} and ${max}`);
    return v;
  }

  optBool(name: string): boolean | undefined {
    const v = this.params[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw this.invalid(name, "expected a boolean");
    return v;
  }

  /**
   * A sensitive JSON text. `JSON.parse`'s own message quotes the input, so it is never used:
   * the error says only that the text is not JSON.
   */
  secretJson(name: string): { text: string; value: unknown } | undefined {
    const text = this.optStr(name, { max: 6 * 1024 * 1024 });
    if (text === undefined) return undefined;
    try {
      return { text, value: JSON.parse(text) as unknown };
    } catch {
      throw this.invalid(name, "not valid JSON text (value not shown: the parameter is sensitive)");
    }
  }
}

/** The last path segment of an ARN or an id (`arn:aws:ecs:…:task/cluster/abc` → `abc`). */
export function lastSegment(idOrArn: string): string {
  const slash = idOrArn.lastIndexOf("/");
  if (slash >= 0) return idOrArn.slice(slash + 1);
  if (idOrArn.startsWith("arn:")) return idOrArn.slice(idOrArn.lastIndexOf(":") + 1);
  return idOrArn;
}
