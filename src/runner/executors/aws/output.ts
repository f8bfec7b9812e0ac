/**
 * Turning AWS responses into executor output and captured state: JSON-safe values (dates to ISO,
 * bytes never inlined, SDK metadata dropped), bounded length, and known secret values scrubbed.
 */

export const DEFAULT_MAX_OUTPUT_CHARS = 4000;

/** An ISO-8601 string for a `Date` or a date-like string AWS returns; `undefined` otherwise. */
export function iso(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  if (typeof v === "string" && v !== "") {
    // Lambda's LastModified is `2024-01-01T00:00:00.000+0000`; moto's carries nanoseconds.
    const normal = v.replace(/([+-]\d\d)(\d\d)$/, "$1:$2").replace(/(\.\d{3})\d+/, "$1");
    const ms = Date.parse(normal);
    return Number.isNaN(ms) ? v : new Date(ms).toISOString();
  }
  return undefined;
}

/**
 * A JSON-safe copy: `Date` → ISO, `Uint8Array` → `<n bytes>` (bodies are never inlined), `bigint`
 * → string, `$metadata` and `undefined` members dropped.
 */
export function jsonSafe(v: unknown, depth = 0): unknown {
  if (depth > 20) return "<nested too deep>";
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return iso(v) ?? null;
  if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1));
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === "$metadata" || x === undefined || typeof x === "function") continue;
      out[k] = jsonSafe(x, depth + 1);
    }
    return out;
  }
  return undefined;
}

/** Drops `undefined` members, so captured state only has keys AWS actually reported. */
export function defined(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out;
}

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [truncated, ${text.length} characters in all]`;
}

/** Replaces every occurrence of each secret (4 characters or more) with `[REDACTED]`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  const sorted = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  for (const s of sorted) out = out.split(s).join("[REDACTED]");
  return out;
}

export function render(value: unknown, max: number, secrets: readonly string[]): string {
  const text = typeof value === "string" ? value : JSON.stringify(jsonSafe(value));
  return truncate(scrub(text ?? "", secrets), max);
}
