/**
 * Reading one raw v2 line without a full JSON parse: a structural scan finds the top-level members
 * verification needs (`v`, `seq`, `chain_id`, `event_id`, `event_type`, `prev_hash`,
 * `entry_hash`), and the hash is taken over the raw bytes with the top-level entry_hash member
 * (`"entry_hash":"<64 hex>",`) cut out. Any byte edit therefore changes the hash; nothing is
 * re-serialised. The scan records byte positions and creates no strings (the verifier compares
 * bytes), which is what lets `audit verify` reach hundreds of thousands of events a second.
 *
 * Top-level members are found by tracking string and bracket nesting, so a nested key that
 * happens to be called `prev_hash` (inside params, say) is never mistaken for the real one.
 */
import * as cryptoModule from "node:crypto";
import { createHash } from "node:crypto";

/** Where the members of interest are: `[xStart, xEnd)` is a string's content (quotes excluded). */
export interface LinePositions {
  v: number | null;
  seq: number | null;
  chainStart: number;
  chainEnd: number;
  idStart: number;
  idEnd: number;
  typeStart: number;
  typeEnd: number;
  prevStart: number;
  prevEnd: number;
  entryStart: number;
  entryEnd: number;
  /** Byte range of `"entry_hash":"…",` (the comma included), or -1. */
  memberStart: number;
  memberEnd: number;
}

/** The same, as strings (for the non-hot paths: the writer's tail, the index, shipping). */
export interface LineFields {
  v: number | null;
  seq: number | null;
  chainId: string | null;
  eventId: string | null;
  eventType: string | null;
  prevHash: string | null;
  entryHash: string | null;
  memberStart: number;
  memberEnd: number;
}

export function emptyPositions(): LinePositions {
  return {
    v: null,
    seq: null,
    chainStart: -1,
    chainEnd: -1,
    idStart: -1,
    idEnd: -1,
    typeStart: -1,
    typeEnd: -1,
    prevStart: -1,
    prevEnd: -1,
    entryStart: -1,
    entryEnd: -1,
    memberStart: -1,
    memberEnd: -1,
  };
}

export function emptyFields(): LineFields {
  return {
    v: null,
    seq: null,
    chainId: null,
    eventId: null,
    eventType: null,
    prevHash: null,
    entryHash: null,
    memberStart: -1,
    memberEnd: -1,
  };
}

const Q = 0x22; // "
const BS = 0x5c; // \
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const K_CHAIN = bytes("chain_id");
const K_ID = bytes("event_id");
const K_PREV = bytes("prev_hash");
const K_ENTRY = bytes("entry_hash");
const K_TYPE = bytes("event_type");

/** Whether `buf[at, at + word.length)` is `word`. */
export function bytesEqual(buf: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

/**
 * Scans `buf[s, e)` (one line, without its `\n`). Returns `null` when the line is a well-formed
 * top-level object whose members of interest are readable, else a short description of what is
 * wrong. `out` is reset and filled either way.
 */
export function scanPositions(buf: Uint8Array, s: number, e: number, out: LinePositions): string | null {
  out.v = out.seq = null;
  out.chainStart = out.idStart = out.typeStart = out.prevStart = out.entryStart = -1;
  out.chainEnd = out.idEnd = out.typeEnd = out.prevEnd = out.entryEnd = -1;
  out.memberStart = out.memberEnd = -1;
  if (e - s < 2 || buf[s] !== LBRACE || buf[e - 1] !== RBRACE) return "not a JSON object";
  let depth = 1;
  let i = s + 1;
  let ks = -1; // current top-level key: [ks, ke), value from vs
  let ke = -1;
  let vs = -1;
  let expectKey = true;
  while (i < e) {
    const c = buf[i]!;
    if (c === Q) {
      const start = i;
      i++;
      for (;;) {
        if (i >= e) return "unterminated string";
        const d = buf[i]!;
        if (d === Q) break;
        i += d === BS ? 2 : 1;
      }
      // i is at the closing quote
      if (depth === 1 && expectKey) {
        if (buf[i + 1] !== COLON) return "expected ':' after a key";
        ks = start + 1;
        ke = i;
        vs = i + 2;
        expectKey = false;
        i += 2;
        // A hash value is 64 hex digits: step over it. (Were those bytes anything else, the
        // verifier's byte comparison with the expected hash would fail the line anyway.)
        const len = ke - ks;
        if (
          (len === 9 || len === 10) &&
          buf[vs] === Q &&
          buf[vs + 65] === Q &&
          vs + 66 < e &&
          (bytesEqual(buf, ks, K_PREV) || bytesEqual(buf, ks, K_ENTRY))
        ) {
          i = vs + 66;
        }
        continue;
      }
      i++;
      continue;
    }
    if (c === LBRACE || c === LBRACKET) {
      depth++;
    } else if (c === RBRACE || c === RBRACKET) {
      depth--;
      if (depth === 0) {
        if (i !== e - 1) return "data after the object";
        if (ks >= 0) {
          const err = member(buf, ks, ke, vs, i, out);
          if (err !== null) return err;
        }
        break;
      }
    } else if (c === COMMA && depth === 1) {
      if (expectKey || ks < 0) return "expected a key";
      const len = ke - ks;
      if (len === 1 || len === 3 || (len >= 8 && len <= 10)) {
        const err = member(buf, ks, ke, vs, i, out);
        if (err !== null) return err;
      }
      expectKey = true;
      ks = -1;
    }
    i++;
  }
  if (depth !== 0) return "unbalanced brackets";
  return null;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Handles the top-level member `[ks, ke)` whose value is `[valueStart, valueEnd)`. */
function member(
  buf: Uint8Array,
  ks: number,
  ke: number,
  valueStart: number,
  valueEnd: number,
  out: LinePositions,
): string | null {
  const len = ke - ks;
  if (len !== 1 && len !== 3 && len !== 8 && len !== 9 && len !== 10) return null;
  // Canonical lines have no whitespace; 0.9.0 lines have a space after ':'.
  let vs = valueStart;
  let ve = valueEnd;
  while (vs < ve && isWs(buf[vs]!)) vs++;
  while (ve > vs && isWs(buf[ve - 1]!)) ve--;
  const k0 = buf[ks];
  if (len === 1) {
    if (k0 !== 0x76 /* v */) return null;
    if (out.v !== null) return "duplicate key v";
    out.v = intValue(buf, vs, ve) ?? -1;
    return null;
  }
  if (len === 3) {
    if (k0 !== 0x73 || buf[ks + 1] !== 0x65 || buf[ks + 2] !== 0x71 /* seq */) return null;
    if (out.seq !== null) return "duplicate key seq";
    out.seq = intValue(buf, vs, ve);
    return out.seq === null ? "seq is not an integer" : null;
  }
  // Hashes are compared byte for byte with what they must be, so quotes are all we check here.
  const quoted = ve - vs >= 2 && buf[vs] === Q && buf[ve - 1] === Q;
  if (len === 10 && bytesEqual(buf, ks, K_ENTRY)) {
    if (out.entryStart !== -1 || out.memberStart !== -1) return "duplicate key entry_hash";
    if (!quoted) return "entry_hash is not a string";
    out.entryStart = vs + 1;
    out.entryEnd = ve - 1;
    out.memberStart = ks - 1;
    out.memberEnd = buf[valueEnd] === COMMA ? valueEnd + 1 : -1;
  } else if (len === 9 && bytesEqual(buf, ks, K_PREV)) {
    if (out.prevStart !== -1) return "duplicate key prev_hash";
    if (!quoted) return "prev_hash is not a string";
    out.prevStart = vs + 1;
    out.prevEnd = ve - 1;
  } else if (len === 8 && bytesEqual(buf, ks, K_CHAIN)) {
    if (out.chainStart !== -1) return "duplicate key chain_id";
    if (plainString(buf, vs, ve)) [out.chainStart, out.chainEnd] = [vs + 1, ve - 1];
  } else if (len === 8 && bytesEqual(buf, ks, K_ID)) {
    if (out.idStart !== -1) return "duplicate key event_id";
    if (plainString(buf, vs, ve)) [out.idStart, out.idEnd] = [vs + 1, ve - 1];
  } else if (len === 10 && bytesEqual(buf, ks, K_TYPE)) {
    if (out.typeStart !== -1) return "duplicate key event_type";
    if (plainString(buf, vs, ve)) [out.typeStart, out.typeEnd] = [vs + 1, ve - 1];
  }
  return null;
}

/** A JSON string of printable ASCII without escapes (ids and hashes never need any). */
function plainString(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s < 2 || buf[s] !== Q || buf[e - 1] !== Q) return false;
  for (let i = s + 1; i < e - 1; i++) {
    const c = buf[i]!;
    if (c === BS || c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** A non-negative decimal integer without leading zeros, or null. */
function intValue(buf: Uint8Array, s: number, e: number): number | null {
  if (e <= s || e - s > 15) return null;
  if (buf[s] === 0x30 && e - s > 1) return null;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return n;
}

/** `buf[s, e)` as a string, or null when the range is unset. */
export function text(buf: Buffer, s: number, e: number): string | null {
  return s < 0 ? null : buf.latin1Slice(s, e);
}

/** `scanPositions` with the members as strings. */
export function scanLine(buf: Buffer, s: number, e: number, out: LineFields): string | null {
  const p = scratchPositions;
  const problem = scanPositions(buf, s, e, p);
  out.v = p.v;
  out.seq = p.seq;
  out.chainId = text(buf, p.chainStart, p.chainEnd);
  out.eventId = text(buf, p.idStart, p.idEnd);
  out.eventType = text(buf, p.typeStart, p.typeEnd);
  out.prevHash = text(buf, p.prevStart, p.prevEnd);
  out.entryHash = text(buf, p.entryStart, p.entryEnd);
  out.memberStart = p.memberStart;
  out.memberEnd = p.memberEnd;
  return problem;
}
const scratchPositions = emptyPositions();

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: "hex") => string;
/** `crypto.hash` (Node 20.12+): a one-shot digest, several times cheaper than `createHash`. */
const oneShot = (cryptoModule as unknown as { hash?: OneShotHash }).hash;
let scratch = Buffer.alloc(64 * 1024);

/** sha256 hex of `buf[s, e)` without the bytes `[cutStart, cutEnd)`. */
export function hashWithout(buf: Buffer, s: number, e: number, cutStart: number, cutEnd: number): string {
  if (oneShot === undefined) {
    return createHash("sha256")
      .update(buf.subarray(s, cutStart))
      .update(buf.subarray(cutEnd, e))
      .digest("hex");
  }
  const n = e - s - (cutEnd - cutStart);
  if (n > scratch.length) scratch = Buffer.alloc(Math.max(n, scratch.length * 2));
  buf.copy(scratch, 0, s, cutStart);
  buf.copy(scratch, cutStart - s, cutEnd, e);
  return oneShot("sha256", scratch.subarray(0, n), "hex");
}

/**
 * sha256 hex of `buf[s, e)` without `[cutStart, cutEnd)`, computed by sliding the bytes before
 * the cut over it (the line is destroyed: call last).
 */
export function hashInPlace(buf: Buffer, s: number, e: number, cutStart: number, cutEnd: number): string {
  if (oneShot === undefined) return hashWithout(buf, s, e, cutStart, cutEnd);
  const cut = cutEnd - cutStart;
  buf.copyWithin(s + cut, s, cutStart);
  return oneShot("sha256", buf.subarray(s + cut, e), "hex");
}

/** Whether the bytes `buf[s, e)` spell the string `str` (ASCII). */
export function bytesAre(buf: Uint8Array, s: number, e: number, str: string): boolean {
  if (s < 0 || e - s !== str.length) return false;
  for (let i = 0; i < str.length; i++) if (buf[s + i] !== str.charCodeAt(i)) return false;
  return true;
}

const HEX64 = /^[0-9a-f]{64}$/;
export function isHash(value: string | null): value is string {
  return value !== null && value.length === 64 && HEX64.test(value);
}
