/**
 * Request bodies: JSON read with Python's `json.loads` semantics (the batch format's, so `5.0`
 * stays a float and a decision over HTTP is the decision in-process), size-limited, with nesting
 * capped so that no later recursive step (validation, canonical JSON for the audit log) can be
 * driven into a stack overflow. Every failure is a 400 naming the position.
 */
import type { FastifyInstance } from "fastify";
import { parseJson } from "../codec/json-fast.js";
import { HttpError } from "./errors.js";

/** Default request body limit: far above any real request, far below anything that hurts. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;
/** Containers nested deeper than this are refused. */
export const MAX_BODY_DEPTH = 64;

/** Replaces fastify's JSON parser with ours, for `application/json` (any parameters). */
export function installJsonParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit }, (_req, body, done) => {
    try {
      done(null, parseBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** The parsed body; `undefined` for an empty one (a route that needs a body says so). */
export function parseBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  const depth = nestingDepth(text);
  if (depth > MAX_BODY_DEPTH) {
    throw new HttpError(400, "invalid_json", `The JSON body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
  try {
    return parseJson(text);
  } catch (err) {
    throw new HttpError(400, "invalid_json", `The body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The deepest `[`/`{` nesting outside strings (a quick scan; the parser judges validity). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Skip the string: to the next quote not escaped by an odd run of backslashes.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return max;
}
