/** Reads an audit log's events (JSONL) for assertions. */
import { existsSync, readFileSync } from "node:fs";

export interface LoggedEvent {
  event_id: string;
  event_type: string;
  seq: number;
  chain_id: string;
  caller: string;
  decision: string;
  correlation_id: string | null;
  [key: string]: unknown;
}

export function readEvents(path: string): LoggedEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as LoggedEvent);
}
