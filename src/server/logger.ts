/**
 * The sidecar's log: pino, one JSON object a line on stdout. Requests are not logged one by one
 * (at thousands a second that is the audit log's job); start-up, reloads, shutdown and errors are.
 * Credentials never appear: the Authorization header and any `token` field are redacted.
 */

import type { FastifyBaseLogger } from "fastify";
import { type DestinationStream, type Level, pino } from "pino";

export type LoggerOptions = { level?: Level | "silent"; stream?: DestinationStream } | false | undefined;

export function createLogger(options: LoggerOptions): FastifyBaseLogger {
  if (options === false) return pino({ level: "silent" }) as unknown as FastifyBaseLogger;
  const config = {
    level: options?.level ?? "info",
    base: { pid: process.pid, service: "agent-safe" },
    redact: {
      paths: [
        "req.headers.authorization",
        "headers.authorization",
        "token",
        "*.token",
        "ticket.token",
        "*.ticket.token",
      ],
      censor: "[REDACTED]",
    },
  };
  const logger = options?.stream ? pino(config, options.stream) : pino(config);
  return logger as unknown as FastifyBaseLogger;
}
