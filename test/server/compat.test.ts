/**
 * The compat corpus over HTTP: the fixture's 20,000 requests, each identity-object caller turned
 * into a minted identity token (the project's Ed25519 identity key), bare ids sent as the bearer,
 * anonymous requests sent without one, the timestamp left to the server. The server's clock and
 * the in-process pipeline's are one injected clock, set to each request's recorded time, so the
 * two decide at the same instant; every decision field must match.
 *
 * - An identity object whose token verifies to exactly that identity is compared with the
 *   in-process pipeline given the object itself (the library's trusted path).
 * - An object a token cannot carry faithfully (a delegation chain the rules refuse, delegated
 *   roles without a chain, an empty id) is compared with the in-process pipeline given the same
 *   token: both must refuse it identically.
 * - Strict profile: bare ids and anonymous callers are DENY `Unauthenticated caller` both ways.
 *   Reference profile (`--insecure-no-auth`): they decide as in 0.9.0, and where the token
 *   carries the identity faithfully the decisions also equal 0.9.0's recorded ones.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJson } from "../../src/codec/json-fast.js";
import { pyJsonDumps } from "../../src/codec/python-json.js";
import { openProject } from "../../src/config/open-project.js";
import type { PyValue } from "../../src/core/pyvalue.js";
import type { CallerIdentity } from "../../src/core/types.js";
import { InvalidCallerError, normalizeCaller } from "../../src/pdp/caller.js";
import type { Decision } from "../../src/pdp/decision.js";
import { DecisionPipeline } from "../../src/pdp/pipeline.js";
import { type Composed, compose } from "../../src/sdk/compose.js";
import type { Sidecar } from "../../src/server/index.js";
import { COMPAT, makeProject, startInProcess } from "./helpers.js";
import { RawHttpClient } from "./raw-http.js";

type Row = {
  id: string;
  action: unknown;
  target: unknown;
  caller: unknown;
  params: unknown;
  timestamp: string;
  ticket_id: unknown;
};

const raw = gunzipSync(readFileSync(join(COMPAT, "fixture.requests.jsonl.gz"))).toString("utf8");
const REQUESTS = raw
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => parseJson(l) as unknown as Row);
const EXPECTED = new Map(
  gunzipSync(readFileSync(join(COMPAT, "fixture.decisions.jsonl.gz")))
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown> & { id: string })
    .map((d) => [d.id, d]),
);

const COMPARED: (keyof Decision)[] = [
  "result",
  "reason",
  "action",
  "target",
  "caller",
  "risk_class",
  "effective_risk",
  "policy_matched",
  "ticket_id",
  "cumulative_risk_score",
  "cumulative_risk_class",
  "escalated_from",
  "target_known",
  "code",
  "policy_revision",
  "profile",
  "evaluated_at",
];
/** Tokens valid over the whole corpus (2000–2100): the clock moves to each request's time. */
const IAT = Date.parse("2000-01-01T00:00:00Z") / 1000;
const EXP = Date.parse("2100-01-01T00:00:00Z") / 1000;
const HEADER_SAFE = /^[\x21-\x7e]*$/;

/** Sidecars deciding in parallel, each with a clock of its own (one shard of the corpus each). */
const SHARDS = 8;

interface Prepared {
  row: Row;
  bearer: string | null;
  inProcessCaller: unknown;
  faithful: boolean;
  body: string;
}

type Outcome = { status: number; decision: Decision | null; error: string | null };

for (const profile of ["strict", "reference"] as const) {
  describe(`fixture corpus over HTTP, ${profile} profile`, () => {
    let dir: string;
    const sidecars: { sidecar: Sidecar; clock: { now: number } }[] = [];
    let composed: Composed;
    let pipeline: DecisionPipeline;
    let now = 0;
    const cleanupFiles: string[] = [];

    beforeAll(async () => {
      // REQUIRE_APPROVAL files an approval request (~5,000 per run): keep that store in memory-backed
      // /dev/shm so that its fsyncs do not dominate the test's time (it is not what is compared).
      const approvals = join(
        existsSync("/dev/shm") ? "/dev/shm" : tmpdir(),
        `agent-safe-compat-${process.pid}-${profile}.db`,
      );
      dir = makeProject({
        fixture: true,
        profile,
        extra: `audit:\n  path: ./audit.jsonl\n  fsync: never\napprovals:\n  store: "sqlite:${approvals}"\n`,
      });
      cleanupFiles.push(approvals, `${approvals}-wal`, `${approvals}-shm`);
      for (let i = 0; i < SHARDS; i++) {
        const clock = { now: 0 };
        const sidecar = await startInProcess(dir, {
          clock: () => clock.now,
          insecureNoAuth: profile === "reference",
          auditPath: `audit-${i}.jsonl`,
          chainId: `shard-${i}`,
        });
        sidecars.push({ sidecar, clock });
      }
      // The in-process reference: same project, same clock value per request, its own audit log
      // (so a request the log cannot carry is refused in-process too).
      const opened = await openProject({ cwd: dir, cache: false });
      const project = {
        ...opened.project,
        settings: {
          ...opened.project.settings,
          audit: {
            ...opened.project.settings.audit!,
            path: "./audit-in-process.jsonl",
            chain_id: "in-process",
          },
        },
      };
      composed = await compose({ project, world: opened.world }, { clock: () => now });
      pipeline = new DecisionPipeline(composed.parts);
    });

    afterAll(async () => {
      await Promise.all(sidecars.map((s) => s.sidecar.close()));
      await composed?.close();
      for (const f of cleanupFiles.splice(0)) rmSync(f, { force: true });
    });

    it("gives over HTTP the decisions of the in-process pipeline, request by request", {
      timeout: 240_000,
    }, async () => {
      const identity = composed.identity!;
      const tokens = new Map<string, { token: string; faithful: boolean }>();
      const counts = {
        objectFaithful: 0,
        objectAsToken: 0,
        bare: 0,
        anonymous: 0,
        skipped: 0,
        unrecordable: 0,
        matched0_9: 0,
      };
      const prepared: Prepared[] = [];
      now = Date.parse("2050-01-01T00:00:00Z");
      for (const row of REQUESTS) {
        let bearer: string | null;
        let inProcessCaller: unknown;
        let faithful = false;
        if (row.caller === null) {
          bearer = null;
          inProcessCaller = null;
          counts.anonymous++;
        } else if (typeof row.caller === "string") {
          if (!HEADER_SAFE.test(row.caller)) {
            counts.skipped++;
            continue;
          }
          bearer = row.caller;
          inProcessCaller = row.caller;
          counts.bare++;
        } else {
          let caller: CallerIdentity | null;
          try {
            caller = normalizeCaller(row.caller);
          } catch (err) {
            if (!(err instanceof InvalidCallerError)) throw err;
            counts.skipped++;
            continue;
          }
          const key = JSON.stringify(caller);
          let t = tokens.get(key);
          if (t === undefined) {
            const token = identity.issuer.sign(caller!, IAT, EXP).token;
            const verified = await identity.verifier.verify(token).catch(() => null);
            t = { token, faithful: verified !== null && JSON.stringify(verified) === key };
            tokens.set(key, t);
          }
          bearer = t.token;
          faithful = t.faithful;
          inProcessCaller = t.faithful ? row.caller : t.token;
          if (t.faithful) counts.objectFaithful++;
          else counts.objectAsToken++;
        }
        const request = {
          action: row.action,
          target: row.target,
          params: row.params,
          ticket_id: row.ticket_id,
        };
        prepared.push({
          row,
          bearer,
          inProcessCaller,
          faithful,
          body: pyJsonDumps(request as unknown as PyValue),
        });
      }

      // Over HTTP: each shard one request at a time, its sidecar's clock at the request's time.
      const outcomes = new Map<string, Outcome>();
      await Promise.all(
        sidecars.map(async ({ sidecar, clock }, shard) => {
          const client = RawHttpClient.fromUrl(sidecar.url);
          for (let i = shard; i < prepared.length; i += SHARDS) {
            const p = prepared[i]!;
            clock.now = Date.parse(p.row.timestamp);
            const headers: Record<string, string> = { "content-type": "application/json" };
            if (p.bearer !== null) headers.authorization = `Bearer ${p.bearer}`;
            const r = await client.request("POST", "/v1/check", headers, p.body);
            const parsed = JSON.parse(r.body) as Record<string, unknown>;
            outcomes.set(p.row.id, {
              status: r.status,
              decision: r.status === 200 ? (parsed as unknown as Decision) : null,
              error: r.status === 200 ? null : (parsed.error as string),
            });
          }
          client.close();
        }),
      );

      // In-process, same identity, same clock.
      const mismatches: string[] = [];
      for (const p of prepared) {
        const { row } = p;
        now = Date.parse(row.timestamp);
        let want: Decision | null = null;
        let refused: string | null = null;
        try {
          want = await pipeline.check(
            {
              action: row.action as string,
              target: row.target as string | null,
              caller: p.inProcessCaller as never,
              params: row.params as never,
              ticketId: row.ticket_id as string | null,
            },
            { trusted: true },
          );
        } catch (err) {
          refused = (err as { code?: string }).code ?? String(err);
        }
        const got = outcomes.get(row.id)!;
        if (refused !== null || got.status !== 200) {
          // Both must refuse, for the same reason: the audit log cannot carry the request.
          if (refused === "INVALID_EVENT" && got.status === 422 && got.error === "unrecordable_request") {
            counts.unrecordable++;
          } else {
            mismatches.push(
              `${row.id}: HTTP ${got.status} ${got.error}, in-process ${refused ?? want?.result}`,
            );
          }
          continue;
        }
        const d = got.decision!;
        // An approval request's id is random: both decisions filed one, or neither did.
        if ((d.request_id === null) !== (want!.request_id === null))
          mismatches.push(`${row.id}: request_id ${d.request_id} over HTTP, in-process ${want!.request_id}`);
        for (const f of COMPARED) {
          if (JSON.stringify(d[f]) !== JSON.stringify(want![f])) {
            mismatches.push(
              `${row.id}: ${f} over HTTP ${JSON.stringify(d[f])}, in-process ${JSON.stringify(want![f])}`,
            );
          }
        }
        if ((d.ticket === null) !== (want!.ticket === null))
          mismatches.push(`${row.id}: ticket presence differs`);
        if (d.ticket !== null && d.ticket.caller !== want!.caller)
          mismatches.push(`${row.id}: ticket caller`);
        // Reference profile, identity carried faithfully (or none): 0.9.0's recorded decision too.
        if (
          profile === "reference" &&
          (p.faithful || typeof row.caller !== "object" || row.caller === null)
        ) {
          const old = EXPECTED.get(row.id)!;
          const same = ["result", "policy_matched", "risk_class", "effective_risk", "reason"].every(
            (f) => JSON.stringify(old[f]) === JSON.stringify(d[f as keyof Decision]),
          );
          if (same) counts.matched0_9++;
          else
            mismatches.push(
              `${row.id}: differs from 0.9.0: ${d.result} ${d.reason} vs ${old.result} ${old.reason}`,
            );
        }
        if (profile === "strict" && (row.caller === null || typeof row.caller === "string")) {
          if (d.code !== "unauthenticated")
            mismatches.push(`${row.id}: strict bare/anonymous not DENY unauthenticated`);
        }
      }
      console.log(`compat over HTTP (${profile}): ${JSON.stringify(counts)}`);
      expect(mismatches.slice(0, 10)).toEqual([]);
      expect(mismatches.length).toBe(0);
      expect(counts.skipped).toBeLessThan(100);
      expect(counts.unrecordable).toBeLessThan(100);
      expect(counts.objectFaithful).toBeGreaterThan(5000);
      expect(
        counts.objectFaithful + counts.objectAsToken + counts.bare + counts.anonymous + counts.skipped,
      ).toBe(20000);
    });
  });
}
