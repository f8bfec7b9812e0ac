/**
 * `GET /.well-known/jwks.json` (the public keys that verify what this deployment signs: execution
 * tickets, identity tokens, audit checkpoints; current and retired-but-still-valid, never a
 * private key) and `GET /openapi.json` (this API, generated from the route declarations).
 */
import { KEY_PURPOSES, type KeyPurpose, projectKeyStore } from "../../keys/index.js";
import { buildOpenApi } from "../openapi.js";
import type { RouteDef, RouteGroup } from "../route.js";

const JWKS_CACHE_MS = 5000;

/** The meta routes; `all` lists every route of the sidecar, for the OpenAPI document. */
export function metaRoutes(all: () => readonly RouteDef[]): RouteGroup {
  return (ctx) => {
    let cached: { at: number; body: unknown } | null = null;
    let openapi: Record<string, unknown> | null = null;
    return [
      {
        method: "GET",
        url: "/.well-known/jwks.json",
        operationId: "jwks",
        summary: "Public keys: tickets, identity tokens, audit checkpoints",
        description:
          "Ed25519 keys as a JSON Web Key Set, each with its `purpose`. With HS256 the ticket and identity " +
          "keys are shared secrets and are not listed.",
        tags: ["keys"],
        auth: "none",
        responses: { 200: { description: "The key set", schema: "Jwks" } },
        handler: () => {
          const now = Date.now();
          if (cached === null || now - cached.at > JWKS_CACHE_MS) {
            const eddsa = ctx.composed.keys?.settings.algorithm === "EdDSA";
            const purposes: KeyPurpose[] = eddsa ? [...KEY_PURPOSES] : ["audit-checkpoint"];
            const store = projectKeyStore(ctx.project);
            cached = {
              at: now,
              body: store.jwks(
                purposes.filter((p) => store.has(p)),
                now,
              ),
            };
          }
          return { body: cached.body, headers: { "cache-control": "public, max-age=60" } };
        },
      },
      {
        method: "GET",
        url: "/openapi.json",
        operationId: "openapi",
        summary: "This API, as OpenAPI 3.1",
        tags: ["meta"],
        auth: "none",
        responses: { 200: { description: "The OpenAPI document" } },
        handler: () => {
          openapi ??= buildOpenApi(all());
          return { body: openapi };
        },
      },
    ];
  };
}
