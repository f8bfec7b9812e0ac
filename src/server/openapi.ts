/**
 * The OpenAPI 3.1 description of the sidecar, generated from the route declarations and the zod
 * schemas that validate the bodies (`z.toJSONSchema`, JSON Schema 2020-12, which OpenAPI 3.1
 * uses as is). What the document says a body may hold is what the server accepts.
 */
import * as z from "zod";
import { VERSION } from "../version.js";
import type { RouteDef } from "./route.js";
import { NAMED_SCHEMAS } from "./schemas.js";

export function buildOpenApi(routes: readonly RouteDef[]): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(NAMED_SCHEMAS)) {
    const { $schema: _drop, ...json } = z.toJSONSchema(schema, {
      target: "draft-2020-12",
      io: "input",
    }) as Record<string, unknown>;
    schemas[name] = json;
  }
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(r.responses)) {
      if (doc === undefined) continue;
      responses[status] = {
        description: doc.description,
        ...(doc.schema !== undefined
          ? { content: { "application/json": { schema: { $ref: `#/components/schemas/${doc.schema}` } } } }
          : doc.contentType !== undefined
            ? { content: { [doc.contentType]: { schema: { type: "string" } } } }
            : {}),
      };
    }
    const security =
      r.auth === "none"
        ? []
        : r.auth === "caller"
          ? [{ identityToken: [] }, {}]
          : r.auth === "admin"
            ? [{ adminToken: [] }]
            : [{ identityToken: [] }];
    const operation: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description !== undefined ? { description: r.description } : {}),
      tags: [...r.tags],
      security,
      ...(r.body !== undefined
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: { $ref: `#/components/schemas/${r.body}` } } },
            },
          }
        : {}),
      responses,
    };
    // fastify's `:id` is OpenAPI's `{id}`, a required path parameter.
    const names = [...r.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    if (names.length > 0)
      operation.parameters = names.map((name) => ({
        name,
        in: "path",
        required: true,
        schema: { type: "string" },
      }));
    const path = r.url.replace(/:(\w+)/g, "{$1}");
    paths[path] ??= {};
    paths[path]![r.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Agent-Safe sidecar",
      version: VERSION,
      description:
        "The Agent-Safe policy decision point over HTTP. The caller is identified only by " +
        "`Authorization: Bearer <identity token>`; the time is the server's. Errors are JSON `{error, message}`.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths,
    components: {
      schemas,
      securitySchemes: {
        identityToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "An Agent-Safe identity or delegation token",
        },
        adminToken: {
          type: "http",
          scheme: "bearer",
          description: "The admin token (serve --admin-token-file)",
        },
      },
    },
  };
}
