/**
 * Writes decision lines straight into bytes. Output is pure ASCII (non-ASCII characters are
 * escaped as \uXXXX, as Python's json.dumps does), so no string is built, flattened or encoded
 * per line; the part after the id is cached for decisions a rule (or the default) made.
 */
import type { CoreDecision, RiskClass } from "../../core/types.js";

export interface DecisionFields {
  result: string;
  policy_matched: string | null;
  risk_class: string;
  effective_risk: string;
  reason: string;
  code: string;
}

const ID_PREFIX = bytesOf('{"id":');
const RANK: Readonly<Record<RiskClass, number>> = { low: 0, medium: 1, high: 2, critical: 3 };
const RESULT_INDEX: Readonly<Record<string, number>> = { allow: 0, deny: 1, require_approval: 2 };
const HEX = "0123456789abcdef";

export class DecisionWriter {
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  /** By rule and the two risk classes; bounded by the world's size. */
  private readonly suffixes = new Map<number, Uint8Array>();
  /** By result and the two risk classes. */
  private readonly heads = new Map<number, Uint8Array>();
  private readonly tails = new Map<string, Uint8Array>();

  write(id: unknown, d: CoreDecision): void {
    this.writeId(id);
    if (d.code === "rule" || d.code === "default_deny") {
      // The rule fixes everything after the id but the two risk classes.
      const key = d.rule_index * 16 + RANK[d.risk_class] * 4 + RANK[d.effective_risk];
      let suffix = this.suffixes.get(key);
      if (suffix === undefined) {
        suffix = bytesOf(suffixText(d));
        this.suffixes.set(key, suffix);
      }
      this.bytes(suffix);
    } else {
      // Built-in denies: the reason varies (it names parameters), the rest is one of a few shapes.
      const key =
        (RESULT_INDEX[d.result] ?? Number.NaN) * 16 + RANK[d.risk_class] * 4 + RANK[d.effective_risk];
      let head = this.heads.get(key);
      if (head === undefined) {
        head = bytesOf(
          `,"result":"${d.result}","policy_matched":null,"risk_class":"${d.risk_class}","effective_risk":"${d.effective_risk}","reason":`,
        );
        if (!Number.isNaN(key)) this.heads.set(key, head);
      }
      this.bytes(head);
      // Written as it is read: hashing it for a cache would read it just as often.
      this.jsonString(d.reason);
      this.bytes(this.cached(this.tails, d.code, () => `,"code":"${d.code}"}\n`));
    }
  }

  writeFields(id: unknown, fields: DecisionFields): void {
    this.writeId(id);
    this.ascii(suffixText(fields));
  }

  private cached(cache: Map<string, Uint8Array>, key: string, make: () => string): Uint8Array {
    let bytes = cache.get(key);
    if (bytes === undefined) {
      bytes = bytesOf(make());
      if (cache.size >= 50_000) cache.clear();
      cache.set(key, bytes);
    }
    return bytes;
  }

  /** The bytes written so far, and a fresh buffer for what follows (the old one may be transferred). */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.len);
    this.buf = new Uint8Array(this.buf.length);
    this.len = 0;
    return out;
  }

  private writeId(id: unknown): void {
    this.bytes(ID_PREFIX);
    if (typeof id === "string") this.jsonString(id);
    else
      this.ascii(
        escapeNonAscii(
          JSON.stringify(id, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "null",
        ),
      );
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  private bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** `s` as a JSON string literal (`jsonAscii`), written straight into the buffer. */
  private jsonString(s: string): void {
    this.ensure(s.length + 2);
    const buf = this.buf;
    let len = this.len;
    buf[len++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        // Something to escape: the general path, from the start of the literal.
        this.ascii(jsonAscii(s));
        return;
      }
      buf[len++] = c;
    }
    buf[len++] = 0x22;
    this.len = len;
  }

  /** `text` must already be ASCII. */
  private ascii(text: string): void {
    this.ensure(text.length);
    const buf = this.buf;
    let len = this.len;
    for (let i = 0; i < text.length; i++) buf[len++] = text.charCodeAt(i);
    this.len = len;
  }
}

function suffixText(d: DecisionFields): string {
  const policy = d.policy_matched === null ? "null" : jsonAscii(d.policy_matched);
  return `,"result":"${d.result}","policy_matched":${policy},"risk_class":"${d.risk_class}","effective_risk":"${d.effective_risk}","reason":${jsonAscii(d.reason)},"code":"${d.code}"}\n`;
}

const NEEDS_ESCAPE = /[^\x20-\x7e]|["\\]/;

/** A string as a JSON string literal, ASCII only. */
function jsonAscii(s: string): string {
  return NEEDS_ESCAPE.test(s) ? escapeNonAscii(JSON.stringify(s)) : `"${s}"`;
}

/** JSON text with every non-ASCII character escaped as \uXXXX (still valid, equal JSON). */
function escapeNonAscii(json: string): string {
  let out = "";
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    out += c < 0x7f ? json[i] : `\\u${HEX[c >> 12]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
  }
  return out;
}

function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
